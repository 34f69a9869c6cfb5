package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;

/** vcpu_set_periodic_timer: 0 period_ns u64. */
public record PeriodicTimer(long periodNs) {
    public static final int SIZE = 8;
    public static final int PERIOD_NS = 0;

    public static PeriodicTimer read(MemorySegment s) {
        return new PeriodicTimer(u64(s, PERIOD_NS));
    }

    public void write(MemorySegment s) {
        u64(s, PERIOD_NS, periodNs);
    }
}
