package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** sched_shutdown: 0 reason u32. */
public record SchedShutdown(int reason) {
    public static final int SIZE = 4;
    public static final int REASON = 0;

    public static SchedShutdown read(MemorySegment s) {
        return new SchedShutdown(u32(s, REASON));
    }

    public void write(MemorySegment s) {
        u32(s, REASON, reason);
    }
}
