package xen.evtchn.api;

import java.util.function.BooleanSupplier;

/**
 * What event channels need from the vCPUs of one domain: which vCPUs exist, the guest's memory,
 * and a way to deliver the upcall. Implemented by the KVM backend and by the software backend.
 */
public interface VcpuBackend {
    /** vCPUs 0 .. count-1 exist. */
    int vcpuCount();

    /** True if vCPU {@code vcpu} exists ({@code vcpu} is the guest's u32, so negative is huge). */
    default boolean vcpuExists(int vcpu) {
        return vcpu >= 0 && vcpu < vcpuCount();
    }

    GuestMemory memory();

    /**
     * The frames this VMM set aside for the toolstack's pages ({@link SpecialFrames}), inside
     * {@link #memory()} and outside the guest's RAM; none by default, and then the domain has no
     * console ring and no xenstore ring.
     *
     * @since 1.2
     */
    default SpecialFrames specialFrames() {
        return SpecialFrames.NONE;
    }

    /**
     * The frequency of the vCPUs' time stamp counter, from which the hypervisor writes each
     * vcpu_time_info (pvclock) so that guests can turn rdtsc into Xen system time.
     */
    long tscHz();

    /** The vCPUs' time stamp counter now (the same on every vCPU: a stable TSC). */
    long tsc();

    /**
     * Delivers the event channel upcall to {@code vcpu} by {@code route}, waking the vCPU if it is
     * halted or blocked. Called once per newly set upcall_pending; must not block.
     */
    void deliverUpcall(int vcpu, UpcallRoute route);

    /**
     * Asserts the level-triggered callback line {@code route} (a GSI or PCI INTx, vCPU 0's) and
     * keeps it asserted while {@code held} is true: after each time the guest takes the interrupt,
     * the backend asks {@code held} again and raises it once more if it still holds, as a level
     * does. The event channel code passes "vCPU 0's upcall_pending is set". The default treats it
     * as an edge on vCPU 0.
     */
    default void assertLevel(UpcallRoute route, BooleanSupplier held) {
        deliverUpcall(0, route);
    }

    /**
     * Wakes {@code vcpu} if it waits for events (SCHEDOP_block or SCHEDOP_poll) without an upcall:
     * a masked port became pending. Must not block.
     */
    default void kick(int vcpu) {
    }
}
