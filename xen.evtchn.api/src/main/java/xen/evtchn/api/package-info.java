/** The services: a domain's event channels, hypercall handlers, vCPU backends, timer providers. */
@Export
@Version("1.1.0")
package xen.evtchn.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
