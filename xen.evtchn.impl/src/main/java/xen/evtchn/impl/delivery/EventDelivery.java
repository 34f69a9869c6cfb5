package xen.evtchn.impl.delivery;

/**
 * How events reach a guest in guest memory: Xen's port operations, implemented by the 2-level ABI
 * ({@link TwoLevel}) and the FIFO ABI ({@link Fifo}). Every method is safe against the guest
 * changing the same words concurrently; the 2-level ones are lock-free, FIFO's linking takes its
 * domain's FIFO lock.
 */
public interface EventDelivery {
    /** Sets the port pending and, if that newly makes the vCPU's upcall pending, delivers it. */
    void setPending(int port, int vcpu);

    void clearPending(int port);

    /** EVTCHNOP_unmask: clears the mask and delivers an event that was pending while masked. */
    void unmask(int port, int vcpu);

    boolean isPending(int port);

    boolean isMasked(int port);

    /**
     * vCPU {@code vcpu}'s vcpu_info just moved (VCPUOP_register_vcpu_info): make sure no event
     * is lost in the move, as Xen does by marking everything pending on the new one.
     */
    void vcpuInfoMoved(int vcpu);

    /** A free port that must not be reused yet. */
    default boolean isBusy(int port) {
        return false;
    }
}
