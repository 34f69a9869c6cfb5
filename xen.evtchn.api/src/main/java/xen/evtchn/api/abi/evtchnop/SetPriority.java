package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_set_priority: 0 port u32, 4 priority u32. */
public record SetPriority(int port, int priority) {
    public static final int PORT = 0;
    public static final int PRIORITY = 4;

    public static SetPriority read(MemorySegment s) {
        return new SetPriority(u32(s, PORT), u32(s, PRIORITY));
    }

    public void write(MemorySegment s) {
        u32(s, PORT, port);
        u32(s, PRIORITY, priority);
    }
}
