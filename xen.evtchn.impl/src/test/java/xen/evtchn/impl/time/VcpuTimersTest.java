package xen.evtchn.impl.time;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** VcpuTimers on a clock the test moves: every fire is counted per vCPU. */
class VcpuTimersTest {
    private static final long MS = 1_000_000;
    private final ManualTimerProvider provider = new ManualTimerProvider(1_000 * MS);
    private final GuestClock clock = new GuestClock(provider::now, 1_000 * MS);
    private final AtomicIntegerArray fired = new AtomicIntegerArray(2);
    private final VcpuTimers timers = new VcpuTimers(2, clock, provider, fired::incrementAndGet);

    @Test
    void aSingleshotFiresOnceAtItsDeadlineOnItsVcpu() {
        timers.setSingleshot(1, 10 * MS);
        provider.advanceTo(provider.now() + 9 * MS);
        assertEquals(0, fired.get(1), "not before the deadline");
        provider.advanceTo(provider.now() + 1 * MS);
        assertEquals(1, fired.get(1));
        assertEquals(0, fired.get(0));
        provider.advanceTo(provider.now() + 100 * MS);
        assertEquals(1, fired.get(1), "once");
        assertEquals(TimerState.STOPPED, timers.state(1), "nothing armed after it fired");
        assertEquals(1, timers.fired(1), "the host counts the tick it delivered");
        assertEquals(0, timers.fired(0));
    }

    @Test
    void aDeadlineInThePastFiresAtOnceAndReArmingReplaces() {
        provider.advanceTo(provider.now() + 50 * MS);
        timers.setSingleshot(0, 10 * MS);
        provider.advanceTo(provider.now());
        assertEquals(1, fired.get(0), "past deadline: at once");
        timers.setSingleshot(0, 100 * MS);
        timers.setSingleshot(0, 200 * MS);
        provider.advanceTo(1_000 * MS + 150 * MS);
        assertEquals(1, fired.get(0), "the first arm was replaced");
        provider.advanceTo(1_000 * MS + 200 * MS);
        assertEquals(2, fired.get(0));
        assertEquals(0, provider.armed());
    }

    @Test
    void stopPreventsTheFire() {
        timers.setSingleshot(0, 10 * MS);
        timers.stopSingleshot(0);
        provider.advanceTo(provider.now() + 20 * MS);
        assertEquals(0, fired.get(0));
    }

    @Test
    void setTimerOpZeroStopsAndUntrustedDeadlinesBecomeNowPlus100ms() {
        timers.setTimerOp(0, 10 * MS);
        timers.setTimerOp(0, 0);
        provider.advanceTo(provider.now() + 20 * MS);
        assertEquals(0, fired.get(0), "0 stops");

        long now = clock.now();
        timers.setTimerOp(0, -5);
        assertEquals(now + 100 * MS, timers.state(0).singleshot(), "negative");
        timers.setTimerOp(0, now + (1L << 50));
        assertEquals(now + 100 * MS, timers.state(0).singleshot(), "2^50 ns ahead");
        timers.setTimerOp(0, now + (1L << 50) - 1);
        assertEquals(now + (1L << 50) - 1, timers.state(0).singleshot(), "just under 2^50 ns is trusted");
    }

    @Test
    void periodicTicksEveryPeriodWithoutCatchingUpMissedTicks() {
        assertEquals(-22, timers.setPeriodic(0, MS - 1), "under 1 ms");
        assertEquals(-22, timers.setPeriodic(0, (1L << 50) + 1), "over 2^50 ns");
        assertEquals(0, timers.setPeriodic(0, 10 * MS));
        for (int i = 1; i <= 5; i++) {
            provider.advanceTo(provider.now() + 10 * MS);
            assertEquals(i, fired.get(0), "tick " + i);
        }
        provider.advanceLateTo(provider.now() + 35 * MS); // fired 2.5 periods late: one tick, then a period on
        assertEquals(6, fired.get(0));
        assertEquals(clock.now() + 10 * MS, timers.state(0).periodicNext());
        timers.stopPeriodic(0);
        provider.advanceTo(provider.now() + 100 * MS);
        assertEquals(6, fired.get(0));
    }

    @Test
    void stateReadOutAndRestoredKeepsTheDeadlines() {
        timers.setSingleshot(0, 30 * MS);
        timers.setPeriodic(1, 20 * MS);
        TimerState s0 = timers.state(0);
        TimerState s1 = timers.state(1);
        timers.stopAll();
        assertEquals(0, provider.armed());
        timers.restore(0, s0);
        timers.restore(1, s1);
        provider.advanceTo(1_000 * MS + 30 * MS);
        assertEquals(1, fired.get(0));
        assertEquals(1, fired.get(1), "the periodic one came at 20 ms");
    }

    @Test
    void movingToAnotherProviderKeepsEveryDeadlineAndFiresNothingTwice() {
        timers.setSingleshot(0, 30 * MS);
        timers.setPeriodic(1, 20 * MS);
        ManualTimerProvider next = new ManualTimerProvider(provider.now());
        timers.moveTo(next);
        assertEquals(0, provider.armed(), "nothing left on the old provider");
        assertEquals(2, next.armed());
        provider.advanceTo(provider.now() + 100 * MS);
        assertEquals(0, fired.get(0) + fired.get(1), "the old provider fires nothing");
        next.advanceTo(next.now() + 30 * MS);
        assertEquals(1, fired.get(0));
        assertEquals(1, fired.get(1));
    }
}
