package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;

/** evtchn_expand_array: 0 array_gfn u64. */
public record ExpandArray(long arrayGfn) {
    public static final int ARRAY_GFN = 0;

    public static ExpandArray read(MemorySegment s) {
        return new ExpandArray(u64(s, ARRAY_GFN));
    }

    public void write(MemorySegment s) {
        u64(s, ARRAY_GFN, arrayGfn);
    }
}
