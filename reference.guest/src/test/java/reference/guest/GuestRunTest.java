package reference.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.impl.host.HostComponent;

/** The reference guest as the host's launcher runs it, on the real host component and timers. */
class GuestRunTest {
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CompletableFuture<GuestRun.Outcome> ended = new CompletableFuture<>();
    private GuestRun run;

    @AfterEach
    void tearDown() {
        try {
            if (run != null) {
                run.stop();
            }
        } finally {
            timers.close();
        }
    }

    private GuestRun run(GuestHost on, GuestConfig config) {
        run = new GuestRun(on, 1, config, null, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), ended::complete);
        run.start();
        return run;
    }

    private List<String> outLines() {
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void printsConsoleAndSummariesThenReportsThePoweroff() throws Exception {
        run(host, new GuestConfig(2, 100, Duration.ofSeconds(2), true, 10));
        GuestRun.Outcome outcome = ended.get(30, TimeUnit.SECONDS);

        assertEquals(SchedOp.SHUTDOWN_POWEROFF, outcome.reason());
        assertNull(outcome.failure());
        assertArrayEquals(new long[] {200, 200}, outcome.ticks(), "the ticks the guest handled, by vCPU");
        assertEquals("poweroff", outcome.reasonName());
        List<String> lines = outLines();
        assertEquals("[dom1] reference guest on Xen 4.17: 2 vCPUs, 100 Hz for PT2S, an IPI to the next vCPU every 10 ticks",
                lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("dom1  t=1s  vcpu0 ticks=") && l.contains("  vcpu1 ")),
                () -> String.join("\n", lines));
        assertTrue(lines.contains("[dom1] reference guest: 400 ticks, 40 IPIs sent, 40 received; powering off"),
                () -> String.join("\n", lines));
        String last = lines.getLast();
        assertTrue(last.startsWith("dom1  end t=2.") && last.contains("vcpu0 ticks=200 timer=200 ipi-in=20 ipi-out=20"),
                last);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aPanickedGuestEndsTheRunAsACrashWithItsReason() throws Exception {
        // A host without vcpu_op: the guest's VCPUOP_register_vcpu_info fails and it panics.
        HypercallHandler noVcpuOp = call -> call.number() == Hypercall.VCPU_OP ? -Errno.ENOSYS
                : host.hypercalls().hypercall(call);
        run(new GuestHost() {
            @Override
            public HypercallHandler hypercalls() {
                return noVcpuOp;
            }

            @Override
            public DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines, String version) {
                return host.createDomain(domid, vcpus, consoleLines, version);
            }

            @Override
            public List<DomainHandle> domains() {
                return host.domains();
            }

            @Override
            public DomainHandle domain(int domid) {
                return host.domain(domid);
            }

            @Override
            public String timerProvider() {
                return host.timerProvider();
            }

            @Override
            public boolean countsEvents() {
                return host.countsEvents();
            }

            @Override
            public DomainHandle restoreDomain(int domid, byte[] stream, VcpuBackend vcpus, Consumer<String> consoleLines) {
                return host.restoreDomain(domid, stream, vcpus, consoleLines);
            }

            @Override
            public boolean destroyDomain(int domid) {
                return host.destroyDomain(domid);
            }
        }, new GuestConfig(2, 100, Duration.ofSeconds(60), true, 10));
        GuestRun.Outcome outcome = ended.get(20, TimeUnit.SECONDS);

        String panic = "vCPU 0: vcpu_op(VCPUOP_register_vcpu_info) gfn 3 offset 0 failed: -ENOSYS (a real guest would panic)";
        assertEquals(SchedOp.SHUTDOWN_CRASH, outcome.reason());
        assertEquals(panic, outcome.failure());
        assertEquals("dom1 crashed: " + panic + System.lineSeparator(), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void stopEndsARunningGuestWithoutAnOutcome() throws Exception {
        run(host, new GuestConfig(1, 100, Duration.ofSeconds(60), false, 1));
        DomainHandle domain = run.domain();
        assertEquals(DomainHandle.RUNNING, domain.shutdownReason());
        long t0 = System.nanoTime();
        run.stop();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "stop() took too long");
        assertFalse(host.destroyDomain(1), "stop() destroyed the domain");
        Thread.sleep(200);
        assertNull(ended.getNow(null), "no outcome after stop()");
    }
}
