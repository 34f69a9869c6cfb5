package xen.evtchn.impl.time;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.function.IntConsumer;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SharedInfoLayout;

/**
 * A domain's time: its system-time clock, its vCPUs' timers, and the pvclock record that lets
 * the guest read the clock from its TSC: system time was {@code systemTimeAtTsc} when the TSC
 * read {@code tsc} (0 at boot; after a restore, the saved system time at the TSC of the moment).
 */
public final class DomainTime {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final GuestClock clock;
    private final VcpuTimers timers;
    private final PvClock pvclock;
    private final long tsc;
    private final long systemTimeAtTsc;

    public DomainTime(GuestClock clock, int vcpus, TimerProvider provider, long tscHz, long tsc, long systemTimeAtTsc,
            IntConsumer tick) {
        this.clock = clock;
        this.timers = new VcpuTimers(vcpus, clock, provider, tick);
        this.pvclock = new PvClock(tscHz);
        this.tsc = tsc;
        this.systemTimeAtTsc = systemTimeAtTsc;
    }

    public GuestClock clock() {
        return clock;
    }

    public VcpuTimers timers() {
        return timers;
    }

    /**
     * Writes shared_info's wall clock: the time of day at system time 0 (pvclock_read_wallclock
     * adds the system time to it), with wc_version odd while it changes, as Xen does.
     */
    public void writeWallclock(MemorySegment sharedInfo, GuestWidth width) {
        SharedInfoLayout layout = width.sharedInfo();
        Instant boot = Instant.now().minusNanos(clock.now());
        int version = (int) U32.getVolatile(sharedInfo, layout.wcVersion());
        U32.setVolatile(sharedInfo, layout.wcVersion(), version | 1);
        GuestField.u32(sharedInfo, layout.wcSec(), (int) boot.getEpochSecond());
        GuestField.u32(sharedInfo, layout.wcNsec(), boot.getNano());
        GuestField.u32(sharedInfo, layout.wcSecHi(), (int) (boot.getEpochSecond() >>> 32));
        U32.setVolatile(sharedInfo, layout.wcVersion(), (version | 1) + 1);
    }

    /** Writes the vcpu_time_info of the vcpu_info at {@code vcpuInfo}. */
    public void writeTimeInfo(MemorySegment vcpuInfo) {
        pvclock.write(vcpuInfo, tsc, systemTimeAtTsc);
    }
}
