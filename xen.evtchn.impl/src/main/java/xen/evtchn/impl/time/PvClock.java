package xen.evtchn.impl.time;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.VcpuTimeInfo;

/**
 * Writes vcpu_time_info ({@link VcpuTimeInfo}) so a guest can turn its TSC into Xen system time.
 * The version is odd while the record changes, as on Xen.
 */
public final class PvClock {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final int mul;
    private final int shift;

    /** Scaling for a TSC of {@code tscHz}: mul and shift such that ns = (ticks << shift) * mul >> 32. */
    public PvClock(long tscHz) {
        if (tscHz <= 0) {
            throw new IllegalArgumentException("TSC frequency must be positive: " + tscHz);
        }
        // mul/2^32 * 2^shift = 1e9/tscHz, with mul in [2^31, 2^32) for precision.
        int s = 0;
        double ratio = 1e9 / tscHz;
        while (ratio >= 1.0) {
            ratio /= 2;
            s++;
        }
        while (ratio < 0.5) {
            ratio *= 2;
            s--;
        }
        this.mul = (int) (long) (ratio * 4294967296.0);
        this.shift = s;
    }

    public int mul() {
        return mul;
    }

    public int shift() {
        return shift;
    }

    /** Writes the record into {@code vcpuInfo}: system time {@code systemTime} was at TSC {@code tsc}. */
    public void write(MemorySegment vcpuInfo, long tsc, long systemTime) {
        // vcpu_time_info sits at the same offset in both widths.
        MemorySegment t = vcpuInfo.asSlice(VcpuInfoLayout.X86_64.time(), VcpuTimeInfo.SIZE);
        int version = (int) U32.getVolatile(t, (long) VcpuTimeInfo.VERSION);
        U32.setVolatile(t, (long) VcpuTimeInfo.VERSION, version | 1); // odd: being written
        GuestField.u64(t, VcpuTimeInfo.TSC_TIMESTAMP, tsc);
        GuestField.u64(t, VcpuTimeInfo.SYSTEM_TIME, systemTime);
        GuestField.u32(t, VcpuTimeInfo.TSC_TO_SYSTEM_MUL, mul);
        GuestField.u8(t, VcpuTimeInfo.TSC_SHIFT, shift);
        GuestField.u8(t, VcpuTimeInfo.FLAGS, VcpuTimeInfo.TSC_STABLE);
        U32.setVolatile(t, (long) VcpuTimeInfo.VERSION, (version | 1) + 1); // even again, and changed
    }
}
