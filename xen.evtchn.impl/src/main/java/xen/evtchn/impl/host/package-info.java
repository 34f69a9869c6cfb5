/**
 * A whole host: {@link xen.evtchn.impl.host.XenHost} makes, saves, restores and destroys domains on
 * one hypercall dispatcher and timer provider; {@link xen.evtchn.impl.host.HostComponent} offers it
 * as OSGi services, with a {@link xen.evtchn.api.host.DomainHandle} view of each domain.
 */
package xen.evtchn.impl.host;
