package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_alloc_unbound: 0 dom u16, 2 remote_dom u16, 4 port u32 (out). */
public record AllocUnbound(int dom, int remoteDom, int port) {
    public static final int DOM = 0;
    public static final int REMOTE_DOM = 2;
    public static final int PORT = 4;

    public static AllocUnbound read(MemorySegment s) {
        return new AllocUnbound(u16(s, DOM), u16(s, REMOTE_DOM), u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u16(s, DOM, dom);
        u16(s, REMOTE_DOM, remoteDom);
        u32(s, PORT, port);
    }

    public static void writeOut(MemorySegment s, int port) {
        u32(s, PORT, port);
    }
}
