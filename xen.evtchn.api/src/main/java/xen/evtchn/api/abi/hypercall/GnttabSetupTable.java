package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.GuestWidth;

/**
 * struct gnttab_setup_table (GNTTABOP_setup_table): 0 dom u16, 4 nr_frames u32, 8 status i16
 * (out, GNTST_*), then frame_list, a guest handle to nr_frames xen_pfn_t (out). The handle and
 * the frames follow the width: 64-bit: frame_list @16, 24 bytes, 8-byte frames; 32-bit (Xen's
 * compat layout): frame_list @12, 16 bytes, 4-byte frames.
 *
 * @since 1.2
 */
public record GnttabSetupTable(int dom, int nrFrames, int status, long frameList) {
    public static final int DOM = 0;
    public static final int NR_FRAMES = 4;
    public static final int STATUS = 8;
    /** Offset of frame_list for a 64-bit caller. */
    public static final int FRAME_LIST_64 = 16;
    /** Offset of frame_list for a 32-bit caller. */
    public static final int FRAME_LIST_32 = 12;

    /** Bytes of the struct for a caller of width {@code w}: 24 or 16. */
    public static int size(GuestWidth w) {
        return w == GuestWidth.X86_64 ? 24 : 16;
    }

    /** Bytes of one frame_list element for a caller of width {@code w}: 8 or 4. */
    public static int frameSize(GuestWidth w) {
        return w == GuestWidth.X86_64 ? 8 : 4;
    }

    public static GnttabSetupTable read(MemorySegment s, GuestWidth w) {
        long list = w == GuestWidth.X86_64 ? u64(s, FRAME_LIST_64) : Integer.toUnsignedLong(u32(s, FRAME_LIST_32));
        return new GnttabSetupTable(u16(s, DOM), u32(s, NR_FRAMES), (short) u16(s, STATUS), list);
    }

    public void write(MemorySegment s, GuestWidth w) {
        u16(s, DOM, dom);
        u32(s, NR_FRAMES, nrFrames);
        u16(s, STATUS, status);
        if (w == GuestWidth.X86_64) {
            u64(s, FRAME_LIST_64, frameList);
        } else {
            u32(s, FRAME_LIST_32, (int) frameList);
        }
    }

    /** Writes only the status: the one field Xen writes back. */
    public static void writeStatus(MemorySegment s, int status) {
        u16(s, STATUS, status);
    }
}
