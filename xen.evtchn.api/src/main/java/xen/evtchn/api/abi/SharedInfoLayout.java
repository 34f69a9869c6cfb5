package xen.evtchn.api.abi;

/**
 * struct shared_info. The first {@link #LEGACY_VCPUS} vCPUs' vcpu_info live at its start, one
 * {@link VcpuInfoLayout#SIZE} bytes apart; later vCPUs have none until they register one (VCPUOP_register_vcpu_info).
 */
public record SharedInfoLayout(long evtchnPending, long evtchnMask, long wcVersion, long wcSec, long wcNsec,
        long wcSecHi, long arch, int size) {
    /** XEN_LEGACY_MAX_VCPUS. */
    public static final int LEGACY_VCPUS = 32;

    public static final SharedInfoLayout X86_64 =
            new SharedInfoLayout(0x800, 0xA00, 0xC00, 0xC04, 0xC08, 0xC0C, 0xC10, 3136);
    /** On i386 wc_sec_hi is the last field of arch_shared_info. */
    public static final SharedInfoLayout X86_32 =
            new SharedInfoLayout(0x800, 0x880, 0x900, 0x904, 0x908, 0x924, 0x90C, 2344);

    /** Offset of vCPU {@code vcpu}'s vcpu_info (vcpu &lt; {@link #LEGACY_VCPUS}). */
    public long vcpuInfo(int vcpu) {
        return (long) vcpu * VcpuInfoLayout.SIZE;
    }
}
