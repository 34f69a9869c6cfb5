/**
 * A running host as a service: {@link xen.evtchn.api.host.GuestHost} lets a guest booter (a
 * bundle that brings up vCPUs and runs a guest on them) create domains on the host's hypercall
 * handlers and follow them through {@link xen.evtchn.api.host.DomainHandle}.
 */
@Export
@Version("1.1.0")
package xen.evtchn.api.host;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
