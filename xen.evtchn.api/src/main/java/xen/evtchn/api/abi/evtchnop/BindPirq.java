package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_bind_pirq: 0 pirq u32, 4 flags u32, 8 port u32 (out). */
public record BindPirq(int pirq, int flags, int port) {
    public static final int PIRQ = 0;
    public static final int FLAGS = 4;
    public static final int PORT = 8;
    /** BIND_PIRQ__WILL_SHARE. */
    public static final int WILL_SHARE = 1;

    public static BindPirq read(MemorySegment s) {
        return new BindPirq(u32(s, PIRQ), u32(s, FLAGS), u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u32(s, PIRQ, pirq);
        u32(s, FLAGS, flags);
        u32(s, PORT, port);
    }

    public static void writeOut(MemorySegment s, int port) {
        u32(s, PORT, port);
    }
}
