package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;

/** vcpu_register_vcpu_info: 0 mfn u64, 8 offset u32, 12 rsvd u32. */
public record RegisterVcpuInfo(long mfn, int offset) {
    public static final int SIZE = 16;
    public static final int MFN = 0;
    public static final int OFFSET = 8;

    public static RegisterVcpuInfo read(MemorySegment s) {
        return new RegisterVcpuInfo(u64(s, MFN), u32(s, OFFSET));
    }

    public void write(MemorySegment s) {
        u64(s, MFN, mfn);
        u32(s, OFFSET, offset);
        u32(s, 12, 0);
    }
}
