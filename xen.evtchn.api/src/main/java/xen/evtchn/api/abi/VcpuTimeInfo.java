package xen.evtchn.api.abi;

/**
 * struct vcpu_time_info (pvclock), 32 bytes at {@link VcpuInfoLayout#time()} in every vcpu_info:
 * version u32 @0 (odd while the hypervisor updates it), tsc_timestamp u64 @8, system_time u64
 * @16, tsc_to_system_mul u32 @24, tsc_shift s8 @28, flags u8 @29. System time now is
 * {@code system_time + scale(tsc - tsc_timestamp, tsc_to_system_mul, tsc_shift)}.
 */
public final class VcpuTimeInfo {
    public static final int SIZE = 32;
    public static final int VERSION = 0;
    public static final int TSC_TIMESTAMP = 8;
    public static final int SYSTEM_TIME = 16;
    public static final int TSC_TO_SYSTEM_MUL = 24;
    public static final int TSC_SHIFT = 28;
    public static final int FLAGS = 29;
    /** PVCLOCK_TSC_STABLE_BIT in flags: the TSC is the same on every vCPU. */
    public static final int TSC_STABLE = 1;

    private VcpuTimeInfo() {
    }

    /**
     * pvclock_scale_delta: {@code delta} shifted left by {@code shift} (right by -shift if
     * negative), times the unsigned 32.32 fixed-point {@code mul}, keeping bits 32..95 of the
     * 96-bit product.
     */
    public static long scale(long delta, int mul, int shift) {
        long d = shift >= 0 ? delta << shift : delta >>> -shift;
        return Math.unsignedMultiplyHigh(d, Integer.toUnsignedLong(mul) << 32);
    }
}
