package xen.evtchn.impl.hypercall;

/** Where a guest's SCHEDOP_shutdown goes: the host decides what a poweroff, reboot or crash means. */
@FunctionalInterface
public interface ShutdownListener {
    /** Domain {@code domid} shut down with {@code reason} (SchedOp.SHUTDOWN_*; soft reset is handled before). */
    void shutdown(int domid, int reason);

    /** For hosts that hear of shutdowns through {@code Domain.onShutdown} alone. */
    ShutdownListener NONE = (domid, reason) -> { };
}
