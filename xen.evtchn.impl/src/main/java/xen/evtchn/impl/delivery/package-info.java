/**
 * Delivery of events into guest memory, as Xen's port-ops table makes one interface of two ABIs
 * ({@link xen.evtchn.impl.delivery.EventDelivery}): 2-level bitmaps in shared_info and vcpu_info
 * ({@link xen.evtchn.impl.delivery.TwoLevel}, event_2l.c) and FIFO queues in guest-registered
 * control blocks and event arrays ({@link xen.evtchn.impl.delivery.Fifo}, event_fifo.c); where each
 * vCPU's vcpu_info and shared_info are ({@link xen.evtchn.impl.delivery.VcpuInfos}). Lock-free bit
 * operations on guest memory; an upcall is only reported, its route is the domain's.
 */
package xen.evtchn.impl.delivery;
