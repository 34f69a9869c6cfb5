package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_bind_interdomain: 0 remote_dom u16, 4 remote_port u32, 8 local_port u32 (out). */
public record BindInterdomain(int remoteDom, int remotePort, int localPort) {
    public static final int REMOTE_DOM = 0;
    public static final int REMOTE_PORT = 4;
    public static final int LOCAL_PORT = 8;

    public static BindInterdomain read(MemorySegment s) {
        return new BindInterdomain(u16(s, REMOTE_DOM), u32(s, REMOTE_PORT), u32(s, LOCAL_PORT));
    }

    public void write(MemorySegment s) {
        u16(s, REMOTE_DOM, remoteDom);
        u32(s, REMOTE_PORT, remotePort);
        u32(s, LOCAL_PORT, localPort);
    }

    public static void writeOut(MemorySegment s, int localPort) {
        u32(s, LOCAL_PORT, localPort);
    }
}
