package xen.evtchn.api.abi;

/**
 * The two x86 guest ABIs. They differ in the 2-level event channel words (64 or 32 bits), hence
 * in the number of ports (bits per word squared) and in the shared_info and vcpu_info layouts.
 */
public enum GuestWidth {
    X86_64(64, SharedInfoLayout.X86_64, VcpuInfoLayout.X86_64),
    X86_32(32, SharedInfoLayout.X86_32, VcpuInfoLayout.X86_32);

    private final int wordBits;
    private final SharedInfoLayout sharedInfo;
    private final VcpuInfoLayout vcpuInfo;

    GuestWidth(int wordBits, SharedInfoLayout sharedInfo, VcpuInfoLayout vcpuInfo) {
        this.wordBits = wordBits;
        this.sharedInfo = sharedInfo;
        this.vcpuInfo = vcpuInfo;
    }

    /** Bits in xen_ulong_t, the word of evtchn_pending, evtchn_mask and pending_sel. */
    public int wordBits() {
        return wordBits;
    }

    /** Bytes in xen_ulong_t. */
    public int wordBytes() {
        return wordBits / 8;
    }

    /** 2-level ports: 4096 for 64-bit guests, 1024 for 32-bit guests (EVTCHN_2L_NR_CHANNELS). */
    public int twoLevelPorts() {
        return wordBits * wordBits;
    }

    public SharedInfoLayout sharedInfo() {
        return sharedInfo;
    }

    public VcpuInfoLayout vcpuInfo() {
        return vcpuInfo;
    }
}
