package xen.evtchn.impl.time;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import xen.evtchn.api.TimerProvider;

/**
 * A domain's time: its system-time clock, its vCPUs' timers, and the pvclock record that lets
 * the guest read the clock from its TSC: system time was {@code systemTimeAtTsc} when the TSC
 * read {@code tsc} (0 at boot; after a restore, the saved system time at the TSC of the moment).
 */
public final class DomainTime {
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

    /** Writes the vcpu_time_info of the vcpu_info at {@code vcpuInfo}. */
    public void writeTimeInfo(MemorySegment vcpuInfo) {
        pvclock.write(vcpuInfo, tsc, systemTimeAtTsc);
    }
}
