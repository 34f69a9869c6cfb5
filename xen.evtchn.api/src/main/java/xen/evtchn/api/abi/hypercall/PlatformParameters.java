package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.GuestWidth;

/**
 * xen_platform_parameters_t (XENVER_platform_parameters): 0 virt_start xen_ulong_t (out), so 8
 * bytes for a 64-bit caller and 4 for a 32-bit one. A 32-bit value reads back zero-extended.
 */
public record PlatformParameters(long virtStart) {
    public static final int VIRT_START = 0;

    /** Bytes of the struct for a caller of width {@code w}. */
    public static int size(GuestWidth w) {
        return w.wordBytes();
    }

    public static PlatformParameters read(MemorySegment s, GuestWidth w) {
        return new PlatformParameters(w == GuestWidth.X86_64 ? u64(s, VIRT_START)
                : Integer.toUnsignedLong(u32(s, VIRT_START)));
    }

    /** Writes virt_start, the struct's only field (out); a 32-bit caller gets its low 32 bits. */
    public void write(MemorySegment s, GuestWidth w) {
        if (w == GuestWidth.X86_64) {
            u64(s, VIRT_START, virtStart);
        } else {
            u32(s, VIRT_START, (int) virtStart);
        }
    }
}
