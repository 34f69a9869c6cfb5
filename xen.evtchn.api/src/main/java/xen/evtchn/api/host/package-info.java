/**
 * A running host as a service: {@link xen.evtchn.api.host.GuestHost} lets a guest booter (a
 * bundle that brings up vCPUs and runs a guest on them) create domains on the host's hypercall
 * handlers and follow them through {@link xen.evtchn.api.host.DomainHandle}, which also shows tools
 * a domain's ports ({@link xen.evtchn.api.host.PortInfo}) and timers
 * ({@link xen.evtchn.api.host.VcpuTimerInfo}). {@link xen.evtchn.api.host.DomainConfiguration}
 * reads a booter's Config Admin configuration. 1.1: those, and the domains and timer provider of a
 * host. 1.2: save and restore ({@link xen.evtchn.api.host.DomainHandle#save()},
 * {@link xen.evtchn.api.host.GuestHost#restoreDomain}, {@link xen.evtchn.api.host.SaveStreamException}).
 * 1.3: for backends and tools, a domain's console ({@link xen.evtchn.api.host.GuestConsole}) and
 * HVM parameters, and the domains as they come and go ({@link xen.evtchn.api.host.DomainListener}).
 * 1.4: the service properties of a booted domain's DomainHandle, named once for booters and those
 * who follow their domains ({@link xen.evtchn.api.host.DomainProperties}).
 * 1.5: a domain's RAM ({@link xen.evtchn.api.host.DomainHandle#ramBytes()}), for XenStore's memory/target.
 * 1.6: a domain's xen-bus consoles ({@link xen.evtchn.api.host.DomainHandle#console(int)});
 * bundles' parts of a domain's save stream ({@link xen.evtchn.api.host.DomainStatePart}, a
 * whiteboard), and the host's parking place for them while a bundle is updated
 * ({@link xen.evtchn.api.host.DomainStateParking}).
 * 1.7: a domain's disks and xen-bus consoles in its configuration
 * ({@link xen.evtchn.api.host.DomainConfiguration#disks()}, {@link xen.evtchn.api.host.DomainConfiguration#consoles()});
 * the encoding of the parts' records ({@link xen.evtchn.api.host.PartWriter}, {@link xen.evtchn.api.host.PartReader}).
 */
@Export
@Version("1.7.0")
package xen.evtchn.api.host;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
