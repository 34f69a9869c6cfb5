/**
 * Event channels (Xen's common/event_channel.c): every EVTCHNOP on a guest's ports
 * ({@link xen.evtchn.impl.evtchn.GuestEventChannels}), the host's backends as domain 0
 * ({@link xen.evtchn.impl.evtchn.HostBackends}, {@link xen.evtchn.impl.evtchn.HostHandle}), channels
 * between any two ({@link xen.evtchn.impl.evtchn.Interdomain}), vCPUs waiting in block and poll
 * ({@link xen.evtchn.impl.evtchn.EventWaits}), the index of port owners by domid that interdomain
 * channels find their peers in ({@link xen.evtchn.impl.evtchn.Domains}), and the event channels' part
 * of a save image (the {@code *Image} records, {@link xen.evtchn.impl.evtchn.EventChannelImages},
 * {@link xen.evtchn.impl.evtchn.DomainRestore}).
 */
package xen.evtchn.impl.evtchn;
