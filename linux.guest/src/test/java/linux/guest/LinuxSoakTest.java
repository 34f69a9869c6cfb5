package linux.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.PortInfo;
import xen.evtchn.impl.host.TimerSwaps;
import xen.evtchn.impl.shell.XenCommands;

/**
 * A soak of Debian's kernel on 2 vCPUs: two loops of process creation keep its reschedule and
 * call-function IPIs and its timers busy while the host's shell reads xen:event-list, xen:stats
 * and xen:timers, injects events, and the timer provider is swapped in and out; afterwards the
 * guest's counts in /proc/interrupts agree with the host's, its watchdogs said nothing, and it
 * still answers. {@code -Dsoak.seconds=N} for a long run (default 30).
 */
class LinuxSoakTest {
    static final Duration SOAK = Duration.ofSeconds(Long.getLong("soak.seconds", 30));
    static final int SWAPS = 100;
    /** What a guest's watchdogs print when events or timers were lost. */
    static final Pattern WATCHDOGS = Pattern.compile(
            "self-detected stall|rcu_sched detected stall|rcu: INFO|clocksource.*unstable|hung task|soft lockup|hard LOCKUP");
    /** Creates processes until /stop exists: each one a reschedule, and call-function IPIs for its memory. */
    static final String LOOP = "(while [ ! -e /stop ]; do /bin/true; done) > /dev/null 2>&1 &";

    private StockLinux.Guest linux;

    @BeforeEach
    void kvmAndDebiansKernel() throws IOException {
        linux = LinuxSession.stockLinux();
    }

    @Test
    void ipisAndTimersUnderLoadWithTimerSwapsLoseNothing() throws Exception {
        try (LinuxSession s = new LinuxSession(linux, 2); PortableTimerProvider better = new PortableTimerProvider()) {
            s.awaitShell();
            DomainHandle d = s.guest.domain();
            XenCommands shell = new XenCommands(s.host, s.host);
            s.run(LOOP);
            s.run(LOOP);

            int injectOn = callFunctionPort(d, 1);
            long end = System.nanoTime() + SOAK.toNanos();
            int swaps = 0;
            int injected = 0;
            while (System.nanoTime() < end || swaps < 2 * SWAPS) {
                if (swaps % 2 == 0) {
                    TimerSwaps.arrive(s.host, better, "better");
                } else {
                    TimerSwaps.leave(s.host, better, s.timers, "portable");
                }
                swaps++;
                if (swaps % 20 == 0) {
                    assertTrue(shell._main("event-list", "1").contains("virq(0)"), "xen:event-list");
                    assertTrue(shell._main("stats", "1").contains("ipi"), "xen:stats");
                    assertTrue(shell._main("timers", "1").startsWith("dom1 vcpu0"), "xen:timers");
                    shell._main("event-inject", "1", Integer.toString(injectOn));
                    injected++;
                }
                Thread.sleep(SOAK.toMillis() / (2 * SWAPS));
            }
            assertEquals("portable", s.host.timerProvider().split(" ")[0], "back on the first provider");
            s.run("touch /stop");
            s.run("sleep 1");

            List<PortInfo> before = d.ports();
            String interrupts = s.run("cat /proc/interrupts");
            List<PortInfo> after = d.ports();
            StringBuilder summary = new StringBuilder("soak of " + SOAK.toSeconds() + " s: " + swaps
                    + " timer provider swaps, " + injected + " events injected;");
            for (int cpu = 0; cpu < 2; cpu++) {
                long timer = LinuxOnKvmTest.counts(interrupts, "timer" + cpu, cpu);
                assertBetween(raised(before, EvtchnStat.VIRQ, cpu), timer, raised(after, EvtchnStat.VIRQ, cpu),
                        "cpu" + cpu + "'s timer events, host before, guest, host after", s);
                long ipis = 0;
                for (String name : List.of("resched", "callfunc", "callfuncsingle", "spinlock")) {
                    ipis += LinuxOnKvmTest.counts(interrupts, name + cpu, cpu);
                }
                assertBetween(raised(before, EvtchnStat.IPI, cpu), ipis, raised(after, EvtchnStat.IPI, cpu),
                        "cpu" + cpu + "'s IPIs, host before, guest, host after", s);
                assertTrue(ipis > injected, "the load made IPIs on cpu" + cpu + ": " + ipis);
                summary.append(" cpu").append(cpu).append(" timer ").append(timer).append(" IPIs ").append(ipis);
            }
            System.out.println(summary);
            Matcher quiet = WATCHDOGS.matcher(s.printed());
            assertFalse(quiet.find(), () -> "a watchdog spoke: " + quiet.group() + "\n" + s);
            assertTrue(s.run("echo still here").contains("\nstill here\r"), s::toString);
        }
    }

    /** The host port Linux binds second on {@code cpu} (its call-function IPI). */
    static int callFunctionPort(DomainHandle d, int cpu) {
        return d.ports().stream().filter(p -> p.status().status() == EvtchnStat.IPI && p.status().vcpu() == cpu)
                .mapToInt(PortInfo::port).sorted().skip(1).findFirst().orElseThrow();
    }

    /** Events raised on the ports of {@code kind} (VIRQ or IPI) bound to {@code cpu}. */
    static long raised(List<PortInfo> ports, int kind, int cpu) {
        return ports.stream().filter(p -> p.status().status() == kind && p.status().vcpu() == cpu)
                .mapToLong(PortInfo::raised).sum();
    }

    static void assertBetween(long low, long value, long high, String what, LinuxSession s) {
        assertTrue(low <= value && value <= high, () -> what + ": " + low + " <= " + value + " <= " + high + "\n" + s);
    }
}
