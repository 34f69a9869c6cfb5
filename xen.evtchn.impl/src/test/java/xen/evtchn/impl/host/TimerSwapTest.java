package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.hypercall.PeriodicTimer;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.VcpuTimerInfo;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * The host's timer provider is a dynamic reference: every armed timer of every domain moves to a
 * better provider with its deadline, parks when there is none, and never fires twice.
 */
class TimerSwapTest {
    static final long SECOND = 1_000_000_000L;
    final ManualTimerProvider a = new ManualTimerProvider(0);
    final ManualTimerProvider b = new ManualTimerProvider(500 * SECOND);
    final HostComponent host = new HostComponent(a);
    final SoftwareBackend vcpus = new SoftwareBackend(1, 2, 1 << 20, host.hypercalls());

    @AfterEach
    void tearDown() {
        host.deactivate();
        vcpus.close();
    }

    /** vCPU 0: a singleshot timer 10 s ahead; vCPU 1: a 5 s periodic timer. */
    DomainHandle armed() throws InterruptedException {
        DomainHandle d = host.createDomain(1, vcpus, line -> { });
        long deadline = d.timers(0).now() + 10 * SECOND;
        vcpus.start(cpu -> {
            MemorySegment ram = vcpus.memory().ram();
            if (cpu.id() == 0) {
                assertEquals(0, cpu.hypercall(Hypercall.SET_TIMER_OP, deadline));
            } else {
                new PeriodicTimer(5 * SECOND).write(ram.asSlice(0x1000, PeriodicTimer.SIZE));
                assertEquals(0, cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.SET_PERIODIC_TIMER, 1, 0x1000));
            }
        });
        assertTrue(vcpus.join(Duration.ofSeconds(10)));
        assertEquals(deadline, d.timers(0).singleshot());
        assertEquals(5 * SECOND, d.timers(1).period());
        return d;
    }

    @Test
    void armedTimersMoveWithTheirDeadlinesAndParkWithoutAProvider() throws InterruptedException {
        DomainHandle d = armed();
        VcpuTimerInfo s0 = d.timers(0);
        VcpuTimerInfo p1 = d.timers(1);
        assertEquals(2, a.armed());

        host.bindTimers(b, Map.of("provider.name", "b", "service.ranking", 10, "service.id", 2L));
        assertEquals(0, a.armed(), "cancelled on the old provider: it cannot fire them");
        assertEquals(2, b.armed());
        assertEquals("b (ranking 10, service.id 2)", host.timerProvider());
        assertEquals(s0.singleshot(), d.timers(0).singleshot(), "the same deadline in guest time");
        assertEquals(p1.periodicNext(), d.timers(1).periodicNext());

        host.unbindTimers(a);
        assertEquals(2, b.armed(), "unbinding a provider not in use changes nothing");
        host.unbindTimers(b);
        assertEquals(0, b.armed());
        assertTrue(host.timerProvider().startsWith("none"), host.timerProvider());
        assertEquals(s0.singleshot(), d.timers(0).singleshot(), "parked timers keep their deadlines");

        b.advanceTo(10_000 * SECOND);
        assertEquals(0, d.timerTicks(0), "a provider that is gone fires nothing");

        host.bindTimers(a, Map.of("provider.name", "a", "service.id", 1L));
        assertEquals(2, a.armed());
        a.advanceTo(11 * SECOND); // a's clock was at 0 when the timers came back, 10 s or less ahead
        assertEquals(1, d.timerTicks(0), "the singleshot fired once");
        assertEquals(VcpuTimerInfo.NONE, d.timers(0).singleshot());
        assertEquals(1, d.timerTicks(1), "the periodic timer's first tick, on the new provider");
        assertEquals(1, a.armed(), "and its next one armed there (the guest's clock is real time: 10 s on)");

        host.bindTimers(b, Map.of("service.id", 3L));
        b.advanceTo(20_000 * SECOND);
        assertEquals(1, d.timerTicks(0), "moving again does not fire it again");
    }

    @Test
    void aDomainCreatedWhileParkedRunsOnTheNextProvider() throws InterruptedException {
        host.unbindTimers(a);
        DomainHandle d = armed();
        assertEquals(0, a.armed());
        host.bindTimers(b, Map.of("service.id", 9L));
        assertEquals(2, b.armed(), "both timers, armed while parked, now on b");
        assertEquals(0, d.timerTicks(0));
    }
}
