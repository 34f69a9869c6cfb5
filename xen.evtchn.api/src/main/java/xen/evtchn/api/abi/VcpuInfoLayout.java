package xen.evtchn.api.abi;

/** struct vcpu_info: 64 bytes in both widths; pending_sel is a xen_ulong_t; {@link VcpuTimeInfo} at {@link #time()}. */
public record VcpuInfoLayout(long upcallPending, long upcallMask, long pendingSel, long arch, long time, int size) {
    /** Bytes of a vcpu_info, in both widths. */
    public static final int SIZE = 64;

    public static final VcpuInfoLayout X86_64 = new VcpuInfoLayout(0, 1, 8, 16, 32, SIZE);
    public static final VcpuInfoLayout X86_32 = new VcpuInfoLayout(0, 1, 4, 8, 32, SIZE);
}
