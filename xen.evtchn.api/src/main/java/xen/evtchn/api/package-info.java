/**
 * The services: a domain's event channels, hypercall handlers, vCPU backends, timer providers. 1.2:
 * the frames a vCPU backend sets aside for the toolstack ({@link xen.evtchn.api.SpecialFrames}).
 * 1.3: extra pages of guest memory outside RAM ({@link xen.evtchn.api.GuestMemory#mapExtraPage}).
 */
@Export
@Version("1.3.0")
package xen.evtchn.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
