package kvm.provider.software;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.UpcallRoute;

class SoftwareVcpuTest {
    private static final long RAM = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final UpcallRoute VECTOR = new UpcallRoute.Vector(0xf3);

    private final AtomicReference<HypercallContext> lastCall = new AtomicReference<>();
    private final SoftwareBackend backend = new SoftwareBackend(3, 2, RAM, call -> {
        lastCall.set(call);
        if (call.arg(0) == -1) {
            throw new IllegalStateException("handler bug");
        }
        return 42;
    });

    @AfterEach
    void close() {
        backend.close();
    }

    /** Guest code that records what its upcall handler saw. */
    private static final class Recorder implements GuestCode {
        final List<UpcallRoute> routes = new ArrayList<>();
        final List<Boolean> ifDuringUpcall = new ArrayList<>();
        private final Body body;

        Recorder(Body body) {
            this.body = body;
        }

        @Override
        public void run(SoftwareVcpu cpu) throws Exception {
            if (cpu.id() == 0) {
                body.run(cpu);
            }
        }

        @Override
        public void upcall(SoftwareVcpu cpu, UpcallRoute route) {
            routes.add(route);
            ifDuringUpcall.add(cpu.interruptsEnabled());
        }
    }

    private interface Body {
        void run(SoftwareVcpu cpu) throws Exception;
    }

    private void runOnVcpu0(Recorder code) throws InterruptedException {
        backend.start(code);
        assertTrue(backend.join(WAIT), "guest code did not finish");
    }

    @Test
    void upcallWhileInterruptsDisabledWaitsForStiThenIsTakenOnce() throws Exception {
        long[] handled = new long[4];
        Recorder code = new Recorder(cpu -> {
            handled[0] = cpu.interruptsEnabled() ? -1 : 0; // starts with IF=0
            backend.deliverUpcall(0, VECTOR);
            assertFalse(cpu.checkInterrupts());
            handled[1] = cpu.upcallsHandled();
            cpu.sti();
            assertTrue(cpu.checkInterrupts());
            handled[2] = cpu.upcallsHandled();
            assertFalse(cpu.checkInterrupts());
            handled[3] = cpu.upcallsHandled();
            assertTrue(cpu.interruptsEnabled(), "IF restored after the upcall");
        });
        runOnVcpu0(code);
        assertArrayEquals(new long[] {0, 0, 1, 1}, handled);
        assertEquals(List.of(VECTOR), code.routes);
        assertEquals(List.of(false), code.ifDuringUpcall);
    }

    @Test
    void cliHoldsTheInterruptLatched() throws Exception {
        long[] handled = new long[2];
        Recorder code = new Recorder(cpu -> {
            cpu.sti();
            cpu.cli();
            backend.deliverUpcall(0, VECTOR);
            cpu.checkInterrupts();
            handled[0] = cpu.upcallsHandled();
            cpu.sti();
            cpu.checkInterrupts();
            handled[1] = cpu.upcallsHandled();
        });
        runOnVcpu0(code);
        assertArrayEquals(new long[] {0, 1}, handled);
    }

    @Test
    void severalUpcallsBeforeTheGuestTakesOneCoalesce() throws Exception {
        UpcallRoute last = new UpcallRoute.LapicVector(0xe0);
        Recorder code = new Recorder(cpu -> {
            backend.deliverUpcall(0, VECTOR);
            backend.deliverUpcall(0, VECTOR);
            backend.deliverUpcall(0, last);
            cpu.sti();
            cpu.checkInterrupts();
            cpu.checkInterrupts();
        });
        runOnVcpu0(code);
        SoftwareVcpu cpu = backend.vcpu(0);
        assertEquals(3, cpu.upcallsDelivered());
        assertEquals(1, cpu.upcallsHandled());
        assertEquals(List.of(last), code.routes);
        assertSame(last, cpu.lastRoute());
    }

    @Test
    void upcallWithNoCallbackWakesButInjectsNothing() throws Exception {
        Recorder code = new Recorder(SoftwareVcpu::halt);
        backend.start(code);
        Waits.until(backend.vcpu(0)::isHalted);
        backend.deliverUpcall(0, UpcallRoute.NONE);
        assertTrue(backend.join(WAIT), "halt did not return");
        assertEquals(1, backend.vcpu(0).upcallsDelivered());
        assertEquals(0, backend.vcpu(0).upcallsHandled());
        assertTrue(code.routes.isEmpty());
    }

    @Test
    void haltWakesOnUpcallFromAnotherThread() throws Exception {
        Recorder code = new Recorder(SoftwareVcpu::halt);
        backend.start(code);
        Waits.until(backend.vcpu(0)::isHalted);
        Thread.ofPlatform().start(() -> backend.deliverUpcall(0, VECTOR)).join();
        assertTrue(backend.join(WAIT), "halt did not return");
        assertEquals(1, backend.vcpu(0).upcallsHandled());
        assertEquals(List.of(VECTOR), code.routes);
        assertFalse(backend.vcpu(0).isHalted());
    }

    @Test
    void haltWakesOnKickWithoutAnInterrupt() throws Exception {
        Recorder code = new Recorder(SoftwareVcpu::halt);
        backend.start(code);
        Waits.until(backend.vcpu(0)::isHalted);
        backend.kick(0);
        assertTrue(backend.join(WAIT), "halt did not return");
        assertEquals(1, backend.vcpu(0).kicks());
        assertEquals(0, backend.vcpu(0).upcallsHandled());
        assertTrue(code.routes.isEmpty());
    }

    @Test
    void upcallRacingHaltIsNeverLost() throws Exception {
        SoftwareVcpu vcpu = backend.vcpu(0);
        pingPong(() -> backend.deliverUpcall(0, VECTOR), vcpu::upcallsHandled, () -> { });
        assertEquals(ROUNDS, vcpu.upcallsDelivered());
        assertEquals(ROUNDS, vcpu.upcallsHandled());
    }

    @Test
    void kickRacingHaltIsNeverLost() throws Exception {
        AtomicLong haltReturns = new AtomicLong();
        pingPong(() -> backend.kick(0), haltReturns::get, haltReturns::incrementAndGet);
        // Each kick ended exactly one halt: none lost, none doubled.
        assertEquals(ROUNDS, backend.vcpu(0).kicks());
        assertEquals(ROUNDS, haltReturns.get());
        assertEquals(0, backend.vcpu(0).upcallsHandled());
    }

    private static final int ROUNDS = 10_000;

    /**
     * This thread sends the next event as soon as the vCPU has counted the previous one, i.e.
     * while the vCPU is on its way back into halt(): the window where a wake-up could be lost.
     * A lost one leaves the vCPU parked, and the bounded wait fails after 10 s instead of hanging.
     */
    private void pingPong(Runnable event, LongSupplier progress, Runnable afterHalt) throws Exception {
        backend.start(new Recorder(cpu -> {
            while (progress.getAsLong() < ROUNDS) {
                cpu.halt();
                afterHalt.run();
            }
        }));
        for (int i = 0; i < ROUNDS; i++) {
            // A varying delay sweeps the send across the vCPU's path from the previous event into park().
            for (int spin = i % 97; spin > 0; spin--) {
                Thread.onSpinWait();
            }
            event.run();
            long expected = i + 1;
            Waits.spinUntil(() -> progress.getAsLong() >= expected);
        }
        assertTrue(backend.join(WAIT), "vCPU did not finish");
        assertEquals(ROUNDS, progress.getAsLong());
    }

    @Test
    void hypercallPassesIdentityArgumentsAndMemoryAndReturnsTheResult() throws Exception {
        long[] result = new long[1];
        MemorySegment[] views = new MemorySegment[2];
        backend.start(new Recorder(cpu -> {
            result[0] = cpu.hypercall(32, 11, 0x2000, 33);
            HypercallContext call = lastCall.get();
            views[0] = call.guest(0x2000, 16);
            views[1] = call.guest(backend.memory().size() - 8, 16); // runs past the end of guest memory
        }));
        assertTrue(backend.join(WAIT));
        assertEquals(42, result[0]);
        VcpuHypercall call = (VcpuHypercall) lastCall.get();
        assertEquals(32, call.number());
        assertEquals(3, call.domid());
        assertEquals(0, call.vcpu());
        assertTrue(call.longMode());
        assertEquals(0, call.cpl());
        assertEquals(11, call.arg(0));
        assertEquals(0x2000, call.arg(1));
        assertEquals(33, call.arg(2));
        assertEquals(0, call.arg(3));
        assertEquals(0, call.arg(4));
        assertThrows(IndexOutOfBoundsException.class, () -> call.arg(5));
        views[0].set(ValueLayout.JAVA_INT, 4, 0xCAFE);
        assertEquals(0xCAFE, backend.memory().ram().get(ValueLayout.JAVA_INT, 0x2004));
        assertNull(views[1]);
    }

    @Test
    void hypercallFromOtherVcpuNamesIt() throws Exception {
        backend.start(cpu -> {
            if (cpu.id() == 1) {
                cpu.hypercall(24);
            }
        });
        assertTrue(backend.join(WAIT));
        assertEquals(1, lastCall.get().vcpu());
    }

    @Test
    void hypercallWithTooManyArgumentsIsRefused() throws Exception {
        backend.start(new Recorder(cpu -> cpu.hypercall(32, 1, 2, 3, 4, 5, 6)));
        VcpuFailure f = assertThrows(VcpuFailure.class, () -> backend.join(WAIT));
        assertTrue(f.getCause() instanceof IllegalArgumentException, f.toString());
        assertNull(lastCall.get());
    }

    @Test
    void handlerExceptionReachesJoinNamingTheVcpu() throws Exception {
        backend.start(new Recorder(cpu -> cpu.hypercall(32, -1)));
        VcpuFailure f = assertThrows(VcpuFailure.class, () -> backend.join(WAIT));
        assertEquals(0, f.vcpu());
        assertTrue(f.getMessage().contains("dom3 vCPU 0"), f.getMessage());
        assertEquals("handler bug", f.getCause().getMessage());
    }

    @Test
    void instructionsRunOnlyOnTheVcpuThread() {
        SoftwareVcpu cpu = backend.vcpu(0);
        assertThrows(IllegalStateException.class, cpu::sti);
        assertThrows(IllegalStateException.class, cpu::cli);
        assertThrows(IllegalStateException.class, cpu::halt);
        assertThrows(IllegalStateException.class, cpu::checkInterrupts);
        assertThrows(IllegalStateException.class, () -> cpu.hypercall(32));
        assertFalse(cpu.interruptsEnabled());
    }
}
