package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;
import static xen.evtchn.api.abi.GuestField.u8;

import java.lang.foreign.MemorySegment;

/** evtchn_init_control: 0 control_gfn u64, 8 offset u32, 12 vcpu u32, 16 link_bits u8 (out), 17 pad[7]. */
public record InitControl(long controlGfn, int offset, int vcpu, int linkBits) {
    public static final int CONTROL_GFN = 0;
    public static final int OFFSET = 8;
    public static final int VCPU = 12;
    public static final int LINK_BITS = 16;

    public static InitControl read(MemorySegment s) {
        return new InitControl(u64(s, CONTROL_GFN), u32(s, OFFSET), u32(s, VCPU), u8(s, LINK_BITS));
    }

    public void write(MemorySegment s) {
        u64(s, CONTROL_GFN, controlGfn);
        u32(s, OFFSET, offset);
        u32(s, VCPU, vcpu);
        u8(s, LINK_BITS, linkBits);
    }

    public static void writeOut(MemorySegment s, int linkBits) {
        u8(s, LINK_BITS, linkBits);
    }
}
