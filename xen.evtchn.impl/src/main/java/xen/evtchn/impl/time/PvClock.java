package xen.evtchn.impl.time;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.VcpuInfoLayout;

/**
 * Writes vcpu_time_info (pvclock) so a guest can turn its TSC into Xen system time:
 * {@code system_time + ((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32}.
 * Layout: version u32 @0, tsc_timestamp u64 @8, system_time u64 @16, tsc_to_system_mul u32 @24,
 * tsc_shift s8 @28, flags u8 @29. The version is odd while the record changes, as on Xen.
 */
public final class PvClock {
    public static final int VERSION = 0;
    public static final int TSC_TIMESTAMP = 8;
    public static final int SYSTEM_TIME = 16;
    public static final int TSC_TO_SYSTEM_MUL = 24;
    public static final int TSC_SHIFT = 28;
    public static final int FLAGS = 29;
    /** PVCLOCK_TSC_STABLE_BIT: the TSC is the same on every vCPU. */
    public static final int TSC_STABLE = 1;

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

    /** System time at {@code tsc} given the record's {@code tscTimestamp} and {@code systemTime}. */
    public long systemTime(long tsc, long tscTimestamp, long systemTime) {
        long delta = tsc - tscTimestamp;
        delta = shift >= 0 ? delta << shift : delta >>> -shift;
        return systemTime + Math.unsignedMultiplyHigh(delta, Integer.toUnsignedLong(mul) << 32);
    }

    /** Writes the record into {@code vcpuInfo}: system time {@code systemTime} was at TSC {@code tsc}. */
    public void write(MemorySegment vcpuInfo, long tsc, long systemTime) {
        // vcpu_time_info sits at the same offset in both widths.
        MemorySegment t = vcpuInfo.asSlice(VcpuInfoLayout.X86_64.time(), VcpuInfoLayout.TIME_INFO_SIZE);
        int version = (int) U32.getVolatile(t, (long) VERSION);
        U32.setVolatile(t, (long) VERSION, version | 1); // odd: being written
        GuestField.u64(t, TSC_TIMESTAMP, tsc);
        GuestField.u64(t, SYSTEM_TIME, systemTime);
        GuestField.u32(t, TSC_TO_SYSTEM_MUL, mul);
        GuestField.u8(t, TSC_SHIFT, shift);
        GuestField.u8(t, FLAGS, TSC_STABLE);
        U32.setVolatile(t, (long) VERSION, (version | 1) + 1); // even again, and changed
    }
}
