package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.console.MemoryConsoleSink;
import xen.evtchn.impl.console.TokenBucket;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.host.XenHost;

/**
 * The acceptance run of step 6: the reference guest on the FIFO ABI with 100,000 more ports bound
 * across 4 vCPUs, priorities 0..15 in turn. Every tick each vCPU sends 64 events on its ports with
 * interrupts off; each is consumed exactly once, and within a batch every higher priority before
 * any lower one (and in send order within a priority). Over the run every port carries an event.
 * Ticks and IPIs are counted as in the 2-level run.
 */
class FifoModeTest {
    private static final int VCPUS = 4;
    private static final int HZ = 100;
    private static final int PORTS = 100_000;
    private static final Duration RUN = Duration.ofSeconds(Long.getLong("guest.seconds", 4));

    @Test
    void aHundredThousandPortsWithMixedPrioritiesNothingLostHigherFirst() throws InterruptedException {
        List<Integer> shutdowns = new CopyOnWriteArrayList<>();
        MemoryConsoleSink console = new MemoryConsoleSink();
        GuestConfig config = new GuestConfig(VCPUS, HZ, RUN, true, 10).withFifo(PORTS);
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            XenHost xen = new XenHost(timers, (domid, reason) -> shutdowns.add(reason));
            try (SoftwareBackend backend = new SoftwareBackend(1, VCPUS, config.ramBytes(), xen.dispatcher())) {
                Domain domain = xen.createDomain(1, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT,
                        new DomainConsole(console, TokenBucket.defaults()));
                ReferenceGuest guest = ReferenceGuest.start(backend, config);
                assertTrue(backend.join(RUN.multipliedBy(3).plusSeconds(60)), "the guest finished in time");

                assertEquals(0, guest.hypercallErrors(), () -> String.valueOf(guest.lastHypercallError()));
                assertEquals(List.of(SchedOp.SHUTDOWN_POWEROFF), shutdowns);
                GuestEventChannels d = domain.events();
                assertTrue(d.isFifo());
                long bound = domain.events().validPorts();
                assertTrue(bound > PORTS, "ports valid: " + bound);
                List<VcpuStats> stats = guest.stats();
                long fifoPorts = 0;
                for (VcpuStats s : stats) {
                    FifoStats f = guest.fifoStats(s.vcpu());
                    fifoPorts += f.ports();
                    assertEquals(config.expectedTicks(), s.ticks(), () -> s + ": every tick");
                    assertEquals(domain.time().timers().fired(s.vcpu()), s.ticks(), () -> s + ": host fired = guest handled");
                    VcpuStats receiver = stats.get((s.vcpu() + 1) % VCPUS);
                    assertEquals(s.ipisSent(), receiver.ipisReceived(), () -> s + " -> " + receiver);
                    assertEquals(config.expectedTicks() * GuestConfig.FIFO_BATCH, f.sent(), f::toString);
                    assertEquals(f.sent(), f.handled(), () -> f + ": each consumed");
                    assertEquals(0, f.duplicates(), f::toString);
                    assertEquals(0, f.lost(), f::toString);
                    assertEquals(0, f.outOfOrder(), () -> f + ": higher priorities first");
                    assertTrue(f.sent() >= f.ports(), () -> f + ": every port carried an event");
                }
                assertEquals(PORTS, fifoPorts);
                String text = console.text();
                assertTrue(text.contains("FIFO ABI with 100000 more ports"), text);
            }
        }
    }
}
