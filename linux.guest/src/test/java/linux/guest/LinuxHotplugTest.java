package linux.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.PortInfo;

/**
 * A Linux guest's event channels through its CPUs' lives: CPU hotplug (its per-CPU VIRQ_TIMER and
 * IPI ports closed when it goes down and bound again when it comes back) and interrupt affinity
 * (an event channel's IRQ moved between CPUs by EVTCHNOP_bind_vcpu), with Debian's kernel on 2 vCPUs.
 */
class LinuxHotplugTest {
    static final String CPU1 = "/sys/devices/system/cpu/cpu1/online";
    static final int CYCLES = 3;
    /** Keeps CPU 1 busy for a while, so that its timer ticks whatever the kernel's idle policy. */
    static final String BUSY_ON_CPU1 = "taskset 2 sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done'";

    private StockLinux.Guest linux;

    @BeforeEach
    void kvmAndDebiansKernel() throws IOException {
        linux = LinuxSession.stockLinux();
    }

    @Test
    void aCpuGoesDownAndComesBackWithItsPortsAndTicks() throws Exception {
        try (LinuxSession s = new LinuxSession(linux, 2)) {
            s.awaitShell();
            DomainHandle d = s.guest.domain();
            List<String> before = bindings(d);
            assertTrue(before.stream().anyMatch(p -> p.endsWith("virq 0 on vcpu 1")), "cpu1's timer port:\n" + before);
            for (int cycle = 1; cycle <= CYCLES; cycle++) {
                s.run("echo 0 > " + CPU1);
                assertTrue(s.run("cat /sys/devices/system/cpu/online").contains("\n0\r"), s::toString);
                List<PortInfo> down = d.ports();
                assertTrue(down.stream().noneMatch(p -> p.status().vcpu() == 1),
                        "cycle " + cycle + ": no port is left on the CPU that is down: " + down);
                s.run("echo 1 > " + CPU1);
                assertTrue(s.run("cat /sys/devices/system/cpu/online").contains("\n0-1\r"), s::toString);
            }
            assertEquals(before, bindings(d), "the same ports, bound alike, after " + CYCLES + " cycles");

            long ticks = LinuxOnKvmTest.counts(s.run("cat /proc/interrupts"), "timer1", 1);
            s.run(BUSY_ON_CPU1);
            long later = LinuxOnKvmTest.counts(s.run("cat /proc/interrupts"), "timer1", 1);
            assertTrue(later > ticks, "cpu1 ticks again: timer1 " + ticks + " then " + later + "\n" + s);
        }
    }

    @Test
    void theConsolesEventsFollowItsIrqToTheOtherCpu() throws Exception {
        try (LinuxSession s = new LinuxSession(linux, 2)) {
            s.awaitShell();
            DomainHandle d = s.guest.domain();
            int port = (int) d.hvmParam(HvmParam.CONSOLE_EVTCHN);
            Matcher irq = Pattern.compile("^\\s*(\\d+):.*hvc_console", Pattern.MULTILINE).matcher(s.run("cat /proc/interrupts"));
            assertTrue(irq.find(), s::toString);
            for (int cpu : new int[] {1, 0, 1}) {
                s.run("echo " + (1 << cpu) + " > /proc/irq/" + irq.group(1) + "/smp_affinity");
                assertEquals(cpu, d.port(port).status().vcpu(), () -> "EVTCHNOP_bind_vcpu moved the console's port\n" + s);
                long typed = LinuxOnKvmTest.counts(s.run("cat /proc/interrupts"), "hvc_console", cpu);
                assertTrue(s.run("echo moved to cpu" + cpu).contains("\nmoved to cpu" + cpu + "\r"), s::toString);
                long after = LinuxOnKvmTest.counts(s.run("cat /proc/interrupts"), "hvc_console", cpu);
                assertTrue(after > typed, "the console's events came to cpu" + cpu + ": " + typed + " then " + after + "\n" + s);
            }
        }
    }

    /** Each port in use with what it is bound to; a channel's vCPU left out (Linux moves those at will). */
    static List<String> bindings(DomainHandle d) {
        return d.ports().stream().map(p -> {
            var st = p.status();
            return switch (st.status()) {
                case EvtchnStat.VIRQ -> p.port() + ": virq " + st.virq() + " on vcpu " + st.vcpu();
                case EvtchnStat.IPI -> p.port() + ": ipi on vcpu " + st.vcpu();
                default -> p.port() + ": " + st.status() + " to dom" + st.remoteDom() + " port " + st.remotePort();
            };
        }).toList();
    }
}
