package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.software.VcpuFailure;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.console.MemoryConsoleSink;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.host.XenHost;

/** The reference guest against the real hypercall handlers, on software vCPUs and a real timer provider. */
class ReferenceGuestTest {
    private static final int DOMID = 7;

    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final List<String> shutdowns = new CopyOnWriteArrayList<>();
    private final XenHost xen = new XenHost(timers,
            (domid, reason) -> shutdowns.add("dom" + domid + " " + SchedOp.shutdownReason(reason)));
    private SoftwareBackend backend;
    private Domain platform;

    @AfterEach
    void tearDown() {
        try {
            if (backend != null) {
                backend.close();
            }
        } finally {
            timers.close();
        }
    }

    /** A domain with every hypercall family a Xen HVM guest uses, as the host wires them. */
    private void host(GuestConfig config, boolean withVcpuOp) {
        backend = new SoftwareBackend(DOMID, config.vcpus(), config.ramBytes(), xen.dispatcher());
        platform = xen.createDomain(DOMID, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
        if (!withVcpuOp) {
            xen.dispatcher().unregister(Hypercall.VCPU_OP, xen.dispatcher().handler(Hypercall.VCPU_OP));
        }
    }

    @Test
    void twoVcpusTickAndExchangeIpisThenPowerOff() throws InterruptedException {
        GuestConfig config = new GuestConfig(2, 100, Duration.ofSeconds(1), true, 5);
        host(config, true);
        ReferenceGuest guest = ReferenceGuest.start(backend, config);
        assertTrue(backend.join(Duration.ofSeconds(30)), "the guest did not finish within 30 s");

        assertTrue(guest.finished(), "vCPU 0 did not reach SCHEDOP_shutdown");
        assertEquals(List.of("dom" + DOMID + " poweroff"), shutdowns);
        assertEquals(SchedOp.SHUTDOWN_POWEROFF, platform.shutdownReason());
        assertEquals(0, guest.hypercallErrors(), () -> guest.lastHypercallError().toString());
        List<VcpuStats> stats = guest.stats();
        long expected = config.expectedTicks();
        for (VcpuStats s : stats) {
            assertTrue(s.ticks() >= expected / 2 && s.ticks() <= expected,
                    () -> s + ": ticks not within 50..100% of " + expected);
            assertTrue(s.ipisSent() > 0, () -> s + ": sent no IPI");
            assertTrue(s.ipiEvents() > 0 && s.ipiEvents() <= s.ipisReceived(), s::toString);
            assertTrue(s.upcalls() >= s.ticks(), () -> s + ": fewer upcalls than ticks");
        }
        // Every IPI sent was received exactly once, by the vCPU it was sent to.
        assertEquals(stats.get(0).ipisSent(), stats.get(1).ipisReceived(), "vCPU 0 -> 1");
        assertEquals(stats.get(1).ipisSent(), stats.get(0).ipisReceived(), "vCPU 1 -> 0");

        String console = ((MemoryConsoleSink) platform.console().sink()).text();
        assertTrue(console.startsWith("reference guest on Xen 4.17: 2 vCPUs, 100 Hz for PT1S, an IPI"), console);
        assertTrue(console.contains("vcpu1: ticks=" + stats.get(1).ticks()), console);
        assertTrue(console.endsWith("powering off\n"), console);
    }

    @Test
    void aFailedHypercallPanicsTheGuestWithAClearMessage() throws InterruptedException {
        GuestConfig config = GuestConfig.ticking(1, 100, Duration.ofSeconds(1));
        host(config, false); // no vcpu_op: VCPUOP_register_vcpu_info answers -ENOSYS
        ReferenceGuest guest = ReferenceGuest.start(backend, config);
        VcpuFailure failure = assertThrows(VcpuFailure.class, () -> backend.join(Duration.ofSeconds(10)));
        GuestPanic panic = assertInstanceOf(GuestPanic.class, failure.getCause());
        assertEquals("vCPU 0: vcpu_op(VCPUOP_register_vcpu_info) gfn 3 offset 0 failed: -ENOSYS"
                + " (a real guest would panic)", panic.getMessage());
        assertEquals(new HypercallError(0, "vcpu_op(VCPUOP_register_vcpu_info) gfn 3 offset 0", 38),
                guest.lastHypercallError().orElseThrow());
        assertEquals(1, guest.hypercallErrors());
        assertEquals(1, guest.stats(0).hypercallErrors());
        assertTrue(!guest.finished() && shutdowns.isEmpty());
        assertEquals(DomainHandle.RUNNING, platform.shutdownReason());
    }

    @Test
    void refusesABackendOfAnotherSize() {
        GuestConfig config = GuestConfig.ticking(2, 100, Duration.ofSeconds(1));
        backend = new SoftwareBackend(DOMID, 1, config.ramBytes(), xen.dispatcher());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceGuest.start(backend, config));
        assertEquals("dom7 has 1 vCPUs; the guest configuration asks for 2", e.getMessage());
        try (SoftwareBackend small = new SoftwareBackend(DOMID, 2, 4096, xen.dispatcher())) {
            e = assertThrows(IllegalArgumentException.class, () -> ReferenceGuest.start(small, config));
            assertEquals("the reference guest with 2 vCPUs needs 24576 bytes of guest RAM: got 4096", e.getMessage());
        }
    }
}
