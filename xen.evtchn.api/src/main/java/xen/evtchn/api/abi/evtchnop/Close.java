package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_close: 0 port u32. */
public record Close(int port) {
    public static final int PORT = 0;

    public static Close read(MemorySegment s) {
        return new Close(u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u32(s, PORT, port);
    }
}
