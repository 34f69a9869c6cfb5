package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;

/**
 * struct xen_hvm_param (HVMOP_set_param, HVMOP_get_param): 0 domid u16, 4 index u32, 8 value u64
 * (out for get_param); {@value #SIZE} bytes in both widths.
 */
public record HvmParamArg(int domid, int index, long value) {
    public static final int DOMID = 0;
    public static final int INDEX = 4;
    public static final int VALUE = 8;
    public static final int SIZE = 16;

    public static HvmParamArg read(MemorySegment s) {
        return new HvmParamArg(u16(s, DOMID), u32(s, INDEX), u64(s, VALUE));
    }

    public void write(MemorySegment s) {
        u16(s, DOMID, domid);
        u32(s, INDEX, index);
        u64(s, VALUE, value);
    }

    public static void writeOut(MemorySegment s, long value) {
        u64(s, VALUE, value);
    }
}
