package reference.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.VcpuTimeInfo;

/**
 * Xen system time as a guest reads it: from its vcpu_info's vcpu_time_info (pvclock) and its own
 * TSC, never by asking the hypervisor. Linux's pvclock_clocksource_read:
 * {@code system_time + scale(tsc - tsc_timestamp)}, the record read under its version
 * (odd while the hypervisor writes it; read again if it changed).
 */
final class XenClock {
    /** A version that stays odd this many reads means a hypervisor that died mid-update. */
    static final int MAX_RETRIES = 1 << 22;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment timeInfo;
    private final LongSupplier tsc;

    /**
     * @param timeInfo the 32-byte vcpu_time_info
     * @param tsc      the vCPU's rdtsc
     */
    XenClock(MemorySegment timeInfo, LongSupplier tsc) {
        this.timeInfo = timeInfo;
        this.tsc = tsc;
    }

    /** True once the hypervisor wrote the record (a zero multiplier would stop time). */
    boolean isValid() {
        return GuestField.u32(timeInfo, VcpuTimeInfo.TSC_TO_SYSTEM_MUL) != 0;
    }

    /** Xen system time now, in nanoseconds. */
    long now() {
        for (int i = 0; i < MAX_RETRIES; i++) {
            int version = (int) U32.getVolatile(timeInfo, VcpuTimeInfo.VERSION);
            if ((version & 1) != 0) {
                Thread.onSpinWait();
                continue;
            }
            long t = tsc.getAsLong();
            long stamp = GuestField.u64(timeInfo, VcpuTimeInfo.TSC_TIMESTAMP);
            long system = GuestField.u64(timeInfo, VcpuTimeInfo.SYSTEM_TIME);
            int mul = GuestField.u32(timeInfo, VcpuTimeInfo.TSC_TO_SYSTEM_MUL);
            int shift = timeInfo.get(ValueLayout.JAVA_BYTE, VcpuTimeInfo.TSC_SHIFT);
            VarHandle.acquireFence(); // the field reads complete before the version is read again
            if ((int) U32.getVolatile(timeInfo, VcpuTimeInfo.VERSION) == version) {
                return system + VcpuTimeInfo.scale(t - stamp, mul, shift);
            }
        }
        throw new GuestPanic("vcpu_time_info: version still changing after " + MAX_RETRIES + " reads");
    }
}
