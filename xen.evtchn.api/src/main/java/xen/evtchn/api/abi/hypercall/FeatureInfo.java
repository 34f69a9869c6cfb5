package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** xen_feature_info_t (XENVER_get_features): 0 submap_idx u32, 4 submap u32 (out); 8 bytes in both widths. */
public record FeatureInfo(int submapIdx, int submap) {
    public static final int SUBMAP_IDX = 0;
    public static final int SUBMAP = 4;
    public static final int SIZE = 8;

    public static FeatureInfo read(MemorySegment s) {
        return new FeatureInfo(u32(s, SUBMAP_IDX), u32(s, SUBMAP));
    }

    public void write(MemorySegment s) {
        u32(s, SUBMAP_IDX, submapIdx);
        u32(s, SUBMAP, submap);
    }

    public static void writeOut(MemorySegment s, int submap) {
        u32(s, SUBMAP, submap);
    }
}
