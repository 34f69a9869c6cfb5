package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u8;

import java.lang.foreign.MemorySegment;

/**
 * struct xen_hvm_evtchn_upcall_vector (HVMOP_set_evtchn_upcall_vector): 0 vcpu u32, 4 vector u8,
 * then 3 bytes of padding; {@value #SIZE} bytes in both widths (Xen copies all of them).
 */
public record EvtchnUpcallVector(int vcpu, int vector) {
    public static final int VCPU = 0;
    public static final int VECTOR = 4;
    public static final int SIZE = 8;

    public static EvtchnUpcallVector read(MemorySegment s) {
        return new EvtchnUpcallVector(u32(s, VCPU), u8(s, VECTOR));
    }

    public void write(MemorySegment s) {
        u32(s, VCPU, vcpu);
        u8(s, VECTOR, vector);
    }
}
