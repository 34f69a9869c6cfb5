package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;

/** vcpu_set_singleshot_timer: 0 timeout_abs_ns u64 (Xen system time), 8 flags u32. */
public record SingleshotTimer(long timeoutAbsNs, int flags) {
    public static final int SIZE = 16;
    public static final int TIMEOUT_ABS_NS = 0;
    public static final int FLAGS = 8;

    public static SingleshotTimer read(MemorySegment s) {
        return new SingleshotTimer(u64(s, TIMEOUT_ABS_NS), u32(s, FLAGS));
    }

    public void write(MemorySegment s) {
        u64(s, TIMEOUT_ABS_NS, timeoutAbsNs);
        u32(s, FLAGS, flags);
    }
}
