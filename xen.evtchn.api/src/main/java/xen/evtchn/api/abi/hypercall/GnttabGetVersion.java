package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/**
 * struct gnttab_get_version (GNTTABOP_get_version): 0 dom u16, 2 pad u16, 4 version u32 (out);
 * {@value #SIZE} bytes in both widths.
 *
 * @since 1.2
 */
public record GnttabGetVersion(int dom, int version) {
    public static final int DOM = 0;
    public static final int VERSION = 4;
    public static final int SIZE = 8;

    public static GnttabGetVersion read(MemorySegment s) {
        return new GnttabGetVersion(u16(s, DOM), u32(s, VERSION));
    }

    public void write(MemorySegment s) {
        u16(s, DOM, dom);
        u16(s, 2, 0);
        u32(s, VERSION, version);
    }

    public static void writeOut(MemorySegment s, int version) {
        u32(s, VERSION, version);
    }
}
