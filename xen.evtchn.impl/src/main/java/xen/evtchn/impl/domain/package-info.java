/**
 * A guest domain whole, as Xen's struct domain ({@link xen.evtchn.impl.domain.Domain}): its event
 * channels, Xen version, HVM parameters, console, time, grant table and shutdown, and the one table of domains by
 * domid ({@link xen.evtchn.impl.domain.DomainTable}) that every hypercall family reads.
 */
package xen.evtchn.impl.domain;
