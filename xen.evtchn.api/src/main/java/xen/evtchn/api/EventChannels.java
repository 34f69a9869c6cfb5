package xen.evtchn.api;

import xen.evtchn.api.abi.GuestWidth;

/**
 * One domain's event channels: every EVTCHNOP, with Xen's semantics, as the guest sees them.
 * Arguments are the guest's raw values (u32 fields arrive as the int carrying their bits);
 * results are Xen's: a port or 0 on success, a negated {@link xen.evtchn.api.abi.Errno} value on
 * failure. No method throws for bad guest input. Safe to call from many vCPU threads at once.
 */
public interface EventChannels {
    /** This domain's id. */
    int domid();

    /** The guest's ABI width, which sets the 2-level port limit. */
    GuestWidth width();

    /** Ports this domain may use with its current ABI: 4096 or 1024 under 2-level. */
    int portLimit();

    int allocUnbound(int dom, int remoteDom);

    int bindInterdomain(int remoteDom, int remotePort);

    int bindVirq(int virq, int vcpu);

    int bindPirq(int pirq, int flags);

    int bindIpi(int vcpu);

    int close(int port);

    int send(int port);

    PortStatus status(int dom, int port);

    int bindVcpu(int port, int vcpu);

    int unmask(int port);

    int reset(int dom);

    int initControl(long controlGfn, int offset, int vcpu);

    int expandArray(long arrayGfn);

    int setPriority(int port, int priority);

    /**
     * Raises VIRQ {@code virq} on {@code vcpu} as the hypervisor does (timer, console...): sets its
     * bound port pending. Returns false when the VIRQ is not bound there (the event is dropped, as
     * on Xen).
     */
    boolean raiseVirq(int virq, int vcpu);
}
