package kvm.provider.software;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;

class SoftwareBackendTest {
    private static final HypercallHandler NONE = call -> -38;
    private static final long RAM = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void refusesBadArgumentsWithMessages() {
        assertMessage("vCPU count must be 1..4096: got 0", () -> new SoftwareBackend(1, 0, RAM, NONE));
        assertMessage("vCPU count must be 1..4096: got 4097", () -> new SoftwareBackend(1, 4097, RAM, NONE));
        assertMessage("vCPU count must be 1..4096: got -1", () -> new SoftwareBackend(1, -1, RAM, NONE));
        assertMessage("got 4095", () -> new SoftwareBackend(1, 1, 4095, NONE));
        assertMessage("got 0", () -> new SoftwareBackend(1, 1, 0, NONE));
        assertMessage("got " + (65L << 30), () -> new SoftwareBackend(1, 1, 65L << 30, NONE));
        assertMessage("domid must be 0..32751: got 32752", () -> new SoftwareBackend(0x7FF0, 1, RAM, NONE));
        assertMessage("domid must be 0..32751: got -1", () -> new SoftwareBackend(-1, 1, RAM, NONE));
        assertThrows(NullPointerException.class, () -> new SoftwareBackend(1, 1, RAM, null));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable ctor) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ctor);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void describesItsVcpusAndMemory() {
        try (SoftwareBackend b = new SoftwareBackend(7, 3, RAM, NONE)) {
            assertEquals(7, b.domid());
            assertEquals(3, b.vcpuCount());
            assertEquals(RAM + SoftwareBackend.SPECIAL_FRAMES * 4096L, b.memory().size());
            assertEquals(new SpecialFrames(RAM / 4096, SoftwareBackend.SPECIAL_FRAMES), b.specialFrames());
            assertEquals(2, b.vcpu(2).id());
            assertSame(b.vcpu(1), b.vcpu(1));
            assertThrows(IllegalArgumentException.class, () -> b.vcpu(3));
            assertThrows(IllegalArgumentException.class, () -> b.vcpu(-1));
        }
    }

    @Test
    void deliveryToUnknownVcpuIsCountedNotThrown() {
        try (SoftwareBackend b = new SoftwareBackend(1, 2, RAM, NONE)) {
            b.deliverUpcall(2, new UpcallRoute.Vector(0xf3));
            b.deliverUpcall(-1, new UpcallRoute.Vector(0xf3));
            b.deliverUpcall(Integer.MIN_VALUE, UpcallRoute.NONE);
            b.kick(99);
            assertEquals(4, b.droppedUpcalls());
            assertEquals(0, b.vcpu(0).upcallsDelivered() + b.vcpu(1).upcallsDelivered());
            assertEquals(0, b.vcpu(0).kicks() + b.vcpu(1).kicks());
        }
    }

    @Test
    void deliveryRecordsCountAndLastRoutePerVcpu() {
        try (SoftwareBackend b = new SoftwareBackend(1, 2, RAM, NONE)) {
            UpcallRoute route = new UpcallRoute.LapicVector(0xf0);
            b.deliverUpcall(1, new UpcallRoute.Vector(0xf3));
            b.deliverUpcall(1, route);
            assertEquals(2, b.vcpu(1).upcallsDelivered());
            assertEquals(route, b.vcpu(1).lastRoute());
            assertEquals(0, b.vcpu(0).upcallsDelivered());
            assertNull(b.vcpu(0).lastRoute());
        }
    }

    @Test
    void guestCodeExceptionIsReportedByJoinNamingTheVcpu() throws Exception {
        try (SoftwareBackend b = new SoftwareBackend(5, 3, RAM, NONE)) {
            b.start(cpu -> {
                if (cpu.id() == 2) {
                    throw new IllegalStateException("triple fault");
                }
                while (!cpu.stopRequested()) {
                    cpu.halt();
                }
            });
            VcpuFailure f = assertThrows(VcpuFailure.class, () -> b.join(WAIT));
            assertEquals(2, f.vcpu());
            assertTrue(f.getMessage().contains("dom5 vCPU 2"), f.getMessage());
            assertEquals("triple fault", f.getCause().getMessage());
            // The crash stopped the other vCPUs, so the domain is gone as on Xen.
            assertTrue(b.vcpu(0).stopRequested());
        }
    }

    @Test
    void unreportedGuestFailureIsThrownByClose() throws Exception {
        SoftwareBackend b = new SoftwareBackend(1, 1, RAM, NONE);
        b.start(cpu -> {
            throw new java.io.IOException("lost?");
        });
        VcpuFailure f = assertThrows(VcpuFailure.class, b::close);
        assertEquals("lost?", f.getCause().getMessage());
        assertFalse(b.memory().ram().scope().isAlive());
    }

    @Test
    void joinReportsTimeoutWhileGuestRuns() throws Exception {
        try (SoftwareBackend b = new SoftwareBackend(1, 1, RAM, NONE)) {
            b.start(cpu -> {
                while (!cpu.stopRequested()) {
                    cpu.halt();
                }
            });
            assertFalse(b.join(Duration.ofMillis(50)));
        }
    }

    @Test
    void closeStopsHaltedVcpusAndFreesRam() throws Exception {
        SoftwareBackend b = new SoftwareBackend(1, 4, RAM, NONE);
        AtomicInteger returned = new AtomicInteger();
        b.start(cpu -> {
            while (!cpu.stopRequested()) {
                cpu.halt();
            }
            returned.incrementAndGet();
        });
        for (int i = 0; i < 4; i++) {
            Waits.until(b.vcpu(i)::isHalted);
        }
        long t0 = System.nanoTime();
        b.close();
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(2).toNanos(), "close waited for its grace period");
        assertEquals(4, returned.get());
        assertTrue(b.join(Duration.ZERO));
        assertFalse(b.memory().ram().scope().isAlive());
        b.close();
    }

    @Test
    void startsOnceAndNotAfterClose() {
        SoftwareBackend b = new SoftwareBackend(1, 1, RAM, NONE);
        b.start(cpu -> { });
        assertThrows(IllegalStateException.class, () -> b.start(cpu -> { }));
        b.close();
        SoftwareBackend c = new SoftwareBackend(1, 1, RAM, NONE);
        c.close();
        assertThrows(IllegalStateException.class, () -> c.start(cpu -> { }));
    }
}
