package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_bind_ipi: 0 vcpu u32, 4 port u32 (out). */
public record BindIpi(int vcpu, int port) {
    public static final int VCPU = 0;
    public static final int PORT = 4;

    public static BindIpi read(MemorySegment s) {
        return new BindIpi(u32(s, VCPU), u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u32(s, VCPU, vcpu);
        u32(s, PORT, port);
    }

    public static void writeOut(MemorySegment s, int port) {
        u32(s, PORT, port);
    }
}
