package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.GuestWidth;

/**
 * xen_add_to_physmap (XENMEM_add_to_physmap): 0 domid u16, 2 size u16, 4 space u32, 8 idx
 * xen_ulong_t, then gpfn xen_pfn_t. Both are 8 bytes for a 64-bit caller (gpfn at 16, 24 bytes
 * in all) and 4 bytes for a 32-bit one (gpfn at 12, 16 bytes; Xen's compat layout). No out
 * fields. 32-bit idx and gpfn read back zero-extended.
 */
public record AddToPhysmap(int domid, int size, int space, long idx, long gpfn) {
    public static final int DOMID = 0;
    /** The size field: frames of a gmfn_range. */
    public static final int SIZE_FIELD = 2;
    public static final int SPACE = 4;
    public static final int IDX = 8;
    /** Offset of gpfn for a 64-bit caller. */
    public static final int GPFN_64 = 16;
    /** Offset of gpfn for a 32-bit caller. */
    public static final int GPFN_32 = 12;

    /** Bytes of the struct for a caller of width {@code w}: 24 or 16. */
    public static int size(GuestWidth w) {
        return w == GuestWidth.X86_64 ? 24 : 16;
    }

    public static AddToPhysmap read(MemorySegment s, GuestWidth w) {
        if (w == GuestWidth.X86_64) {
            return new AddToPhysmap(u16(s, DOMID), u16(s, SIZE_FIELD), u32(s, SPACE), u64(s, IDX), u64(s, GPFN_64));
        }
        return new AddToPhysmap(u16(s, DOMID), u16(s, SIZE_FIELD), u32(s, SPACE),
                Integer.toUnsignedLong(u32(s, IDX)), Integer.toUnsignedLong(u32(s, GPFN_32)));
    }

    /** Writes every field; a 32-bit caller's idx and gpfn keep their low 32 bits. */
    public void write(MemorySegment s, GuestWidth w) {
        u16(s, DOMID, domid);
        u16(s, SIZE_FIELD, size);
        u32(s, SPACE, space);
        if (w == GuestWidth.X86_64) {
            u64(s, IDX, idx);
            u64(s, GPFN_64, gpfn);
        } else {
            u32(s, IDX, (int) idx);
            u32(s, GPFN_32, (int) gpfn);
        }
    }
}
