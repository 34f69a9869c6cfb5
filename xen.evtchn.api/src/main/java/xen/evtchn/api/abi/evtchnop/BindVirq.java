package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_bind_virq: 0 virq u32, 4 vcpu u32, 8 port u32 (out). */
public record BindVirq(int virq, int vcpu, int port) {
    public static final int VIRQ = 0;
    public static final int VCPU = 4;
    public static final int PORT = 8;

    public static BindVirq read(MemorySegment s) {
        return new BindVirq(u32(s, VIRQ), u32(s, VCPU), u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u32(s, VIRQ, virq);
        u32(s, VCPU, vcpu);
        u32(s, PORT, port);
    }

    public static void writeOut(MemorySegment s, int port) {
        u32(s, PORT, port);
    }
}
