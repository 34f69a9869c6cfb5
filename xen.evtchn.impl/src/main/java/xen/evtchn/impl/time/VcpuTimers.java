package xen.evtchn.impl.time;

import static xen.evtchn.api.abi.Errno.EINVAL;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.abi.VcpuOp;

/**
 * The Xen timers of a domain's vCPUs: per vCPU one singleshot and one periodic timer, firing
 * VIRQ_TIMER on that vCPU (through {@code fire}). Each is one armed provider timer at a time; a
 * generation number per vCPU settles a fire racing a re-arm, so a singleshot timer fires at most
 * once. Periodic ticks that were missed are not caught up (Xen's behaviour): the next one is a
 * period after the late one.
 */
public final class VcpuTimers {
    private final GuestClock clock;
    private final IntConsumer fire;
    private final VcpuTimer[] timers;
    private final AtomicLongArray fired;
    private volatile TimerProvider provider;

    public VcpuTimers(int vcpus, GuestClock clock, TimerProvider provider, IntConsumer fire) {
        this.clock = clock;
        this.fire = fire;
        this.provider = provider;
        this.timers = new VcpuTimer[vcpus];
        this.fired = new AtomicLongArray(vcpus);
        for (int v = 0; v < vcpus; v++) {
            timers[v] = new VcpuTimer(v);
        }
    }

    public GuestClock clock() {
        return clock;
    }

    /**
     * VCPUOP_set_singleshot_timer: fires once at {@code deadline} (system time), at once if it has
     * passed. Xen's s_time_t is signed, so a deadline past 2^63 is in the past.
     */
    public void setSingleshot(int vcpu, long deadline) {
        timers[vcpu].armSingleshot(deadline < 0 ? clock.now() : deadline);
    }

    public void stopSingleshot(int vcpu) {
        timers[vcpu].armSingleshot(TimerState.NONE);
    }

    /**
     * set_timer_op for {@code vcpu}: 0 stops the singleshot timer; a deadline that is negative or
     * more than 2^50 ns ahead is not trusted and becomes now + 100 ms, as Xen does.
     */
    public void setTimerOp(int vcpu, long deadline) {
        if (deadline == 0) {
            stopSingleshot(vcpu);
            return;
        }
        long now = clock.now();
        if (deadline < 0 || deadline - now >= VcpuOp.STIME_DELTA_MAX) {
            deadline = now + VcpuOp.BAD_DEADLINE_DELAY_NS;
        }
        setSingleshot(vcpu, deadline);
    }

    /** VCPUOP_set_periodic_timer: 0, or -EINVAL for a period under 1 ms or over 2^50 ns. */
    public int setPeriodic(int vcpu, long period) {
        if (period < VcpuOp.MIN_PERIOD_NS || period > VcpuOp.STIME_DELTA_MAX) {
            return -EINVAL;
        }
        timers[vcpu].armPeriodic(period, clock.now() + period);
        return 0;
    }

    public void stopPeriodic(int vcpu) {
        timers[vcpu].armPeriodic(0, 0);
    }

    /** Timer events delivered to {@code vcpu} so far, singleshot and periodic: the host's side of a tick count. */
    public long fired(int vcpu) {
        return fired.get(vcpu);
    }

    /** The vCPU's timers as values (for a provider swap or a save). */
    public TimerState state(int vcpu) {
        return timers[vcpu].state();
    }

    /** Arms the vCPU's timers from {@code state}, replacing what was armed. */
    public void restore(int vcpu, TimerState state) {
        timers[vcpu].armSingleshot(state.singleshot());
        timers[vcpu].armPeriodic(state.period(), state.periodicNext());
    }

    /**
     * Moves every armed timer to {@code next} with its deadline: each is cancelled on the old
     * provider first, so none fires twice, and armed again on the new one, so none is lost.
     */
    public void moveTo(TimerProvider next) {
        provider = next;
        for (VcpuTimer t : timers) {
            t.rearm();
        }
    }

    /**
     * Stops every timer and returns what each vCPU had armed, for a save: once it returns, none of
     * them fires on this host again, and none is on its way.
     */
    public List<TimerState> stopForSave() {
        List<TimerState> states = new ArrayList<>(timers.length);
        for (VcpuTimer t : timers) {
            states.add(t.stop());
        }
        return states;
    }

    /** Stops every timer (soft reset stops the singleshot ones; a dying domain stops all). */
    public void stopAll() {
        for (VcpuTimer t : timers) {
            t.stop();
        }
    }

    /** One vCPU's two timers. All changes under its monitor; fires check the generation they were armed with. */
    private final class VcpuTimer {
        private final int vcpu;
        private long singleshot = TimerState.NONE;
        private long singleshotGeneration;
        private TimerProvider.Timer singleshotTimer;
        private long period;
        private long periodicNext;
        private long periodicGeneration;
        private TimerProvider.Timer periodicTimer;

        VcpuTimer(int vcpu) {
            this.vcpu = vcpu;
        }

        synchronized TimerState state() {
            return new TimerState(singleshot, period, periodicNext);
        }

        synchronized void armSingleshot(long deadline) {
            cancel(singleshotTimer);
            singleshotTimer = null;
            singleshot = deadline;
            long generation = ++singleshotGeneration;
            if (deadline != TimerState.NONE) {
                singleshotTimer = provider.schedule(clock.toProvider(deadline, provider), () -> singleshotFired(generation));
            }
        }

        synchronized void armPeriodic(long newPeriod, long next) {
            cancel(periodicTimer);
            periodicTimer = null;
            period = newPeriod;
            periodicNext = next;
            long generation = ++periodicGeneration;
            if (newPeriod != 0) {
                periodicTimer = provider.schedule(clock.toProvider(next, provider), () -> periodicFired(generation));
            }
        }

        synchronized void rearm() {
            armSingleshot(singleshot);
            armPeriodic(period, periodicNext);
        }

        /**
         * The event is raised under the monitor, so that a stop or a save that returns has no
         * fire still on its way (raising never blocks, and takes no lock a timer user holds).
         */
        private synchronized void singleshotFired(long generation) {
            if (generation != singleshotGeneration || singleshot == TimerState.NONE) {
                return; // re-armed or stopped after this fire was due: the new arm decides
            }
            singleshot = TimerState.NONE;
            singleshotTimer = null;
            fired.incrementAndGet(vcpu);
            fire.accept(vcpu);
        }

        private synchronized void periodicFired(long generation) {
            if (generation != periodicGeneration || period == 0) {
                return;
            }
            periodicNext = Math.max(periodicNext, clock.now()) + period;
            long next = ++periodicGeneration;
            periodicTimer = provider.schedule(clock.toProvider(periodicNext, provider), () -> periodicFired(next));
            fired.incrementAndGet(vcpu);
            fire.accept(vcpu);
        }

        synchronized TimerState stop() {
            TimerState s = state();
            armSingleshot(TimerState.NONE);
            armPeriodic(0, 0);
            return s;
        }

        private void cancel(TimerProvider.Timer t) {
            if (t != null) {
                t.cancel();
            }
        }
    }
}
