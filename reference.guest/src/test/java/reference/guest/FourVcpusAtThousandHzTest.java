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
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.time.VcpuTimers;

/**
 * The acceptance run of step 2: a 4-vCPU reference guest ticks at 1000 Hz per vCPU for 10 s
 * (-Dguest.seconds=N to change) with IPIs flowing around the ring of vCPUs. Every tick the host
 * fired is one the guest handled, and every IPI sent was received exactly once.
 */
class FourVcpusAtThousandHzTest {
    private static final int VCPUS = 4;
    private static final int HZ = 1000;
    private static final long SECONDS = Long.getLong("guest.seconds", 10);

    @Test
    void everyTickAndEveryIpiIsDeliveredExactlyOnce() throws InterruptedException {
        List<Integer> shutdowns = new CopyOnWriteArrayList<>();
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            XenHost xen = new XenHost(timers, (domid, reason) -> shutdowns.add(reason));
            GuestConfig config = new GuestConfig(VCPUS, HZ, Duration.ofSeconds(SECONDS), true, 10);
            try (SoftwareBackend backend = new SoftwareBackend(1, VCPUS, config.ramBytes(), xen.dispatcher())) {
                Domain domain = xen.createDomain(1, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT,
                        DomainConsole.inMemory());
                ReferenceGuest guest = ReferenceGuest.start(backend, config);
                assertTrue(backend.join(Duration.ofSeconds(SECONDS * 3 + 30)), "the guest finished in time");

                assertEquals(0, guest.hypercallErrors(), () -> String.valueOf(guest.lastHypercallError()));
                assertEquals(List.of(SchedOp.SHUTDOWN_POWEROFF), shutdowns);
                VcpuTimers hostTimers = domain.time().timers();
                List<VcpuStats> stats = guest.stats();
                for (VcpuStats s : stats) {
                    assertEquals(config.expectedTicks(), s.ticks(), () -> s + ": every deadline of the run ticked");
                    assertEquals(hostTimers.fired(s.vcpu()), s.ticks(), () -> s + ": host fired = guest handled");
                    VcpuStats receiver = stats.get((s.vcpu() + 1) % VCPUS);
                    assertEquals(s.ipisSent(), receiver.ipisReceived(), () -> s + " -> " + receiver);
                    assertTrue(s.ipisSent() >= config.expectedTicks() / 10 - 1, () -> s + ": an IPI every 10 ticks");
                }
            }
        }
    }
}
