package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.GuestField.u32;
import static xen.evtchn.api.abi.GuestField.u64;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.GuestWidth;

/**
 * vcpu_register_runstate_memory_area: one guest address, 8 bytes in both widths (a union with a
 * u64), of a struct vcpu_runstate_info: state s32 @0, then state_entry_time u64 and time[4] u64
 * (running, runnable, blocked, offline), 8-aligned on x86_64 (48 bytes), packed on x86_32
 * (44 bytes).
 */
public record RunstateArea(long address) {
    public static final int SIZE = 8;
    /** RUNSTATE_running: the vCPU runs (what a vCPU on its own thread always does here). */
    public static final int RUNNING = 0;

    public static RunstateArea read(MemorySegment s) {
        return new RunstateArea(u64(s, 0));
    }

    public void write(MemorySegment s) {
        u64(s, 0, address);
    }

    /** sizeof(struct vcpu_runstate_info) for {@code width}. */
    public static int infoSize(GuestWidth width) {
        return width == GuestWidth.X86_64 ? 48 : 44;
    }

    /**
     * Writes a vcpu_runstate_info into {@code info}: state {@code state} since system time
     * {@code entryTime}, and the nanoseconds spent in each state.
     */
    public static void writeInfo(MemorySegment info, GuestWidth width, int state, long entryTime, long[] time) {
        int at = width == GuestWidth.X86_64 ? 8 : 4;
        u32(info, 0, state);
        if (at == 8) {
            u32(info, 4, 0);
        }
        u64(info, at, entryTime);
        for (int i = 0; i < 4; i++) {
            u64(info, at + 8 + 8L * i, time[i]);
        }
    }
}
