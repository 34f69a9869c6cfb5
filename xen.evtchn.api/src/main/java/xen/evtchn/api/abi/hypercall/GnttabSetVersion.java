package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/**
 * struct gnttab_set_version (GNTTABOP_set_version): 0 version u32, in and out (Xen writes the
 * version in force back, whatever the answer); {@value #SIZE} bytes in both widths.
 *
 * @since 1.2
 */
public record GnttabSetVersion(int version) {
    public static final int VERSION = 0;
    public static final int SIZE = 4;

    public static GnttabSetVersion read(MemorySegment s) {
        return new GnttabSetVersion(u32(s, VERSION));
    }

    public void write(MemorySegment s) {
        u32(s, VERSION, version);
    }
}
