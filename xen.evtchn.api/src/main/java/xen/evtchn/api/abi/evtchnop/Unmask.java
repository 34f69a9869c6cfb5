package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_unmask: 0 port u32. */
public record Unmask(int port) {
    public static final int PORT = 0;

    public static Unmask read(MemorySegment s) {
        return new Unmask(u32(s, PORT));
    }

    public void write(MemorySegment s) {
        u32(s, PORT, port);
    }
}
