/**
 * The API for host-side backends, shaped like libxenevtchn. 1.1: named handles, which hand their
 * ports over from one owner to the next ({@link xen.evtchn.api.backend.BackendState}). 1.2: guest
 * memory for backends, shaped like libxenforeignmemory ({@link xen.evtchn.api.backend.ForeignMemory}).
 * 1.3: grant tables, shaped like libxengnttab ({@link xen.evtchn.api.backend.GrantTables}).
 */
@Export
@Version("1.3.0")
package xen.evtchn.api.backend;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
