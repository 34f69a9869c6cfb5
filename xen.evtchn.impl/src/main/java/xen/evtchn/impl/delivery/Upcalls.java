package xen.evtchn.impl.delivery;

/**
 * What either ABI's delivery tells its domain: a port newly became pending, and a vCPU's
 * upcall_pending was newly set (how that upcall reaches the vCPU is the domain's routing).
 */
public interface Upcalls {
    /** Called for every newly pending port, masked or not, before any upcall (Xen's evtchn_check_pollers). */
    void portPending(int port);

    void upcall(int vcpu);
}
