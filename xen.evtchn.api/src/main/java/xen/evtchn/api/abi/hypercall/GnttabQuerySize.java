package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/**
 * struct gnttab_query_size (GNTTABOP_query_size): 0 dom u16; out: 4 nr_frames u32,
 * 8 max_nr_frames u32, 12 status i16 (GNTST_*); {@value #SIZE} bytes in both widths.
 *
 * @since 1.2
 */
public record GnttabQuerySize(int dom, int nrFrames, int maxNrFrames, int status) {
    public static final int DOM = 0;
    public static final int NR_FRAMES = 4;
    public static final int MAX_NR_FRAMES = 8;
    public static final int STATUS = 12;
    public static final int SIZE = 16;

    public static GnttabQuerySize read(MemorySegment s) {
        return new GnttabQuerySize(u16(s, DOM), u32(s, NR_FRAMES), u32(s, MAX_NR_FRAMES), (short) u16(s, STATUS));
    }

    public void write(MemorySegment s) {
        u16(s, DOM, dom);
        u32(s, NR_FRAMES, nrFrames);
        u32(s, MAX_NR_FRAMES, maxNrFrames);
        u16(s, STATUS, status);
    }
}
