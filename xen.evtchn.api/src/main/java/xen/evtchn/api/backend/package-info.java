/**
 * The API for host-side backends, shaped like libxenevtchn. 1.1: named handles, which hand their
 * ports over from one owner to the next ({@link xen.evtchn.api.backend.BackendState}).
 */
@Export
@Version("1.1.0")
package xen.evtchn.api.backend;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
