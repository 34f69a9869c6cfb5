/**
 * The services: a domain's event channels, hypercall handlers, vCPU backends, timer providers. 1.2:
 * the frames a vCPU backend sets aside for the toolstack ({@link xen.evtchn.api.SpecialFrames}).
 */
@Export
@Version("1.2.0")
package xen.evtchn.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
