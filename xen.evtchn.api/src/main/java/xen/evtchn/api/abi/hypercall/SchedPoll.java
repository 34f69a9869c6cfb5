package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.GuestWidth;

/**
 * sched_poll: a guest handle to an array of u32 ports, nr_ports u32, timeout u64 (absolute Xen
 * system time, 0 for none). The handle is a pointer, so the layout follows the width:
 * 64-bit: ports @0 (8 bytes), nr_ports @8, timeout @16, 24 bytes;
 * 32-bit: ports @0 (4 bytes), nr_ports @4, timeout @8, 16 bytes.
 */
public record SchedPoll(long ports, int nrPorts, long timeout) {
    public static int size(GuestWidth w) {
        return w == GuestWidth.X86_64 ? 24 : 16;
    }

    public static SchedPoll read(MemorySegment s, GuestWidth w) {
        if (w == GuestWidth.X86_64) {
            return new SchedPoll(u64(s, 0), u32(s, 8), u64(s, 16));
        }
        return new SchedPoll(Integer.toUnsignedLong(u32(s, 0)), u32(s, 4), u64(s, 8));
    }

    public void write(MemorySegment s, GuestWidth w) {
        if (w == GuestWidth.X86_64) {
            u64(s, 0, ports);
            u32(s, 8, nrPorts);
            u64(s, 16, timeout);
        } else {
            u32(s, 0, (int) ports);
            u32(s, 4, nrPorts);
            u64(s, 8, timeout);
        }
    }
}
