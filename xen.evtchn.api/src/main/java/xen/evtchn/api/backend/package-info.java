/** The API for host-side backends, shaped like libxenevtchn. */
@Export
@Version("1.1.0")
package xen.evtchn.api.backend;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
