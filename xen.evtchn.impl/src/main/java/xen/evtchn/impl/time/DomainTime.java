package xen.evtchn.impl.time;

import java.lang.foreign.MemorySegment;
import java.util.function.IntConsumer;
import xen.evtchn.api.TimerProvider;

/**
 * A domain's time: its system-time clock, its vCPUs' timers, and the pvclock record that lets
 * the guest read the clock from its TSC. {@code tscAtBoot} is the TSC when system time was 0.
 */
public final class DomainTime {
    private final GuestClock clock;
    private final VcpuTimers timers;
    private final PvClock pvclock;
    private final long tscAtBoot;

    public DomainTime(GuestClock clock, int vcpus, TimerProvider provider, long tscHz, long tscAtBoot, IntConsumer tick) {
        this.clock = clock;
        this.timers = new VcpuTimers(vcpus, clock, provider, tick);
        this.pvclock = new PvClock(tscHz);
        this.tscAtBoot = tscAtBoot;
    }

    public GuestClock clock() {
        return clock;
    }

    public VcpuTimers timers() {
        return timers;
    }

    /** Writes the vcpu_time_info of the vcpu_info at {@code vcpuInfo}. */
    public void writeTimeInfo(MemorySegment vcpuInfo) {
        pvclock.write(vcpuInfo, tscAtBoot, 0);
    }
}
