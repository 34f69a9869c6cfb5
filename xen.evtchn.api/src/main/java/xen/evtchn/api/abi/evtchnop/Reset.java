package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u16;

import java.lang.foreign.MemorySegment;

/** evtchn_reset: 0 dom u16. */
public record Reset(int dom) {
    public static final int DOM = 0;

    public static Reset read(MemorySegment s) {
        return new Reset(u16(s, DOM));
    }

    public void write(MemorySegment s) {
        u16(s, DOM, dom);
    }
}
