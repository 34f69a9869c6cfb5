package kvm.provider.xen;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import kvm.provider.boot.LongMode;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;

/**
 * {@link KvmBackend}'s exit loop with hand-made 64-bit guests (set up by {@link LongMode}, no
 * PVH boot): faults end the domain with a message, an upcall wakes a halted vCPU, the TSC the host
 * computes is the guest's. Skipped where /dev/kvm is unusable.
 */
class KvmBackendTest {
    static final int DOMID = 3;
    static final long RAM = 2L << 20;
    static final long CODE = 0x1000;
    static final long HANDLER = 0x1100;
    static final long IDT = 0x2000;
    static final long STACK_TOP = 0x8000;
    static final long TABLES = 0x10000;
    static final int VECTOR = 0x40;

    final List<String> log = new CopyOnWriteArrayList<>();
    final LinkedBlockingQueue<long[]> outs = new LinkedBlockingQueue<>();

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    KvmBackend backend() {
        KvmConfig config = KvmConfig.of(1, RAM, log::add)
                .withPortWrites((vcpu, port, size, value) -> outs.add(new long[] {port, value, System.nanoTime()}));
        return new KvmBackend(DOMID, config, call -> -38);
    }

    /** Long mode, rip at CODE, rsp at STACK_TOP, and an IDT of 256 empty gates (limit 0 if {@code noIdt}). */
    static void enter(KvmBackend b, byte[] code, boolean noIdt) {
        MemorySegment ram = b.memory().ram();
        MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, CODE, code.length);
        KvmVcpu vcpu = b.vcpu(0);
        LongMode.enter(vcpu, ram, TABLES);
        LongMode.loadIdt(vcpu, IDT, noIdt ? 0 : 256);
        vcpu.setRegs(new KvmRegs(0, 0, 0, 0, 0, 0, STACK_TOP, 0, 0, 0, 0, 0, 0, 0, 0, 0, CODE, 2));
    }

    static void gate(MemorySegment ram, int vector, long target) {
        LongMode.interruptGate(ram, IDT, vector, target);
    }

    @Test
    void aTripleFaultEndsTheDomainWithRipAndReason() throws InterruptedException {
        try (KvmBackend b = backend()) {
            enter(b, bytes(0x90, 0x0f, 0x0b), true); // nop; ud2 with no IDT: #UD, #DF, triple fault
            b.start();
            assertTrue(b.awaitStop(Duration.ofSeconds(10)), "the vCPU stops");
            String failure = b.failure().orElseThrow();
            assertTrue(failure.startsWith("dom3 vcpu0: triple fault"), failure);
            // where it was, or that KVM reset the vCPU at the shutdown and took that away (AMD)
            assertTrue(failure.contains("rip 0x") || failure.endsWith("rip not known: this KVM reset the vCPU"), failure);
            assertTrue(log.contains(failure), "logged: " + log);
        }
    }

    @Test
    void haltWithInterruptsOffTakesTheOnlyVcpuDown() throws InterruptedException {
        try (KvmBackend b = backend()) {
            enter(b, bytes(0xfa, 0xf4), false); // cli; hlt
            b.start();
            assertTrue(b.awaitStop(Duration.ofSeconds(10)), "the vCPU stops");
            String failure = b.failure().orElseThrow();
            assertTrue(failure.contains("every vCPU is down") && failure.contains("interrupts disabled"), failure);
        }
    }

    @Test
    void anUpcallWakesAHaltedVcpuThroughTheCallbackVector() throws InterruptedException {
        try (KvmBackend b = backend()) {
            // CODE: out 1 to 0x80; sti; hlt; jmp back to sti.  HANDLER: out 0x55 to 0x81; cli; hlt.
            enter(b, bytes(0xb8, 1, 0, 0, 0, 0xe7, 0x80, 0xfb, 0xf4, 0xeb, 0xfc), false);
            byte[] handler = bytes(0xb8, 0x55, 0, 0, 0, 0xe7, 0x81, 0xfa, 0xf4);
            MemorySegment.copy(MemorySegment.ofArray(handler), 0, b.memory().ram(), HANDLER, handler.length);
            gate(b.memory().ram(), VECTOR, HANDLER);
            b.start();
            long[] first = outs.poll(10, TimeUnit.SECONDS);
            assertEquals(0x80, first[0], "the guest started");
            Thread.sleep(100); // let it reach hlt: the upcall must wake it, not find it running
            assertTrue(outs.isEmpty(), "no interrupt before the upcall");
            b.deliverUpcall(0, new UpcallRoute.Vector(VECTOR));
            long[] handled = outs.poll(10, TimeUnit.SECONDS);
            assertEquals(0x81, handled[0], "the handler ran");
            assertEquals(0x55, handled[1]);
            assertTrue(b.awaitStop(Duration.ofSeconds(10)), "cli; hlt in the handler takes the vCPU down");
            assertEquals(0, b.droppedUpcalls());
        }
    }

    @Test
    void withTheIrqchipAPerVcpuVectorArrivesByMsiAndAStopKicksTheVcpuOutOfKvmRun() throws InterruptedException {
        KvmConfig config = KvmConfig.of(1, RAM, log::add).withIrqchip(true)
                .withPortWrites((vcpu, port, size, value) -> outs.add(new long[] {port, value}));
        try (KvmBackend b = new KvmBackend(DOMID, config, call -> -38)) {
            // x2APIC on (IA32_APIC_BASE |= EXTD | EN), APIC software-enabled (SVR = 0x1ff), out 1 to 0x80,
            // then sti; hlt; jmp back.  HANDLER: out 0x55 to 0x81; EOI (x2APIC MSR 0x80b); cli; hlt.
            enter(b, bytes(0xb9, 0x1b, 0, 0, 0, 0x0f, 0x32, 0x0d, 0, 0x0c, 0, 0, 0x0f, 0x30,
                    0xb9, 0x0f, 0x08, 0, 0, 0xb8, 0xff, 0x01, 0, 0, 0x31, 0xd2, 0x0f, 0x30,
                    0xb8, 1, 0, 0, 0, 0xe7, 0x80, 0xfb, 0xf4, 0xeb, 0xfc), false);
            byte[] handler = bytes(0xb8, 0x55, 0, 0, 0, 0xe7, 0x81, 0xb9, 0x0b, 0x08, 0, 0, 0x31, 0xc0, 0x31, 0xd2,
                    0x0f, 0x30, 0xfa, 0xf4);
            MemorySegment.copy(MemorySegment.ofArray(handler), 0, b.memory().ram(), HANDLER, handler.length);
            gate(b.memory().ram(), VECTOR, HANDLER);
            b.start();
            assertEquals(0x80, outs.poll(10, TimeUnit.SECONDS)[0], "the guest started");
            Thread.sleep(100);
            b.deliverUpcall(0, new UpcallRoute.LapicVector(VECTOR));
            long[] handled = outs.poll(10, TimeUnit.SECONDS);
            assertEquals(0x81, handled[0], "the handler ran: " + log);
            assertEquals(0, b.droppedUpcalls());
            // cli; hlt now waits inside KVM (the irqchip handles HLT): only a kick gets the thread out.
            assertFalse(b.awaitStop(Duration.ofMillis(200)), "halted in the kernel");
            b.requestStop();
            assertTrue(b.awaitStop(Duration.ofSeconds(10)), "the stop kicked it out of KVM_RUN");
            assertTrue(b.failure().isEmpty(), "a stop is no failure");
        }
    }

    @Test
    void upcallsForMissingVcpusOrLevelRoutesAreDroppedAndCounted() {
        try (KvmBackend b = backend()) {
            b.deliverUpcall(5, new UpcallRoute.Vector(VECTOR));
            b.deliverUpcall(0, new UpcallRoute.Gsi(5));
            b.deliverUpcall(0, new UpcallRoute.Gsi(5));
            assertEquals(3, b.droppedUpcalls());
            assertEquals(1, log.stream().filter(l -> l.contains("GSI and PCI INTx")).count(), "said once: " + log);
        }
    }

    @Test
    void theHostsTscIsTheGuests() throws InterruptedException {
        try (KvmBackend b = backend()) {
            // rdtsc; out eax to 0x80; mov eax, edx; out eax to 0x81; cli; hlt
            enter(b, bytes(0x0f, 0x31, 0xe7, 0x80, 0x89, 0xd0, 0xe7, 0x81, 0xfa, 0xf4), false);
            assertTrue(b.tscHz() > 0, "tsc Hz " + b.tscHz());
            long before = b.tsc();
            b.start();
            long low = outs.poll(10, TimeUnit.SECONDS)[1];
            long high = outs.poll(10, TimeUnit.SECONDS)[1];
            long after = b.tsc();
            long guest = high << 32 | low;
            long slack = b.tscHz() / 100; // 10 ms: the host's estimate follows the monotonic clock
            assertTrue(guest >= before - slack && guest <= after + slack,
                    () -> "guest TSC " + guest + " within [" + before + ", " + after + "] +- " + slack);
        }
    }

    @Test
    void startTwiceOrAfterCloseIsRefused() {
        KvmBackend b = backend();
        enter(b, bytes(0xfa, 0xf4), false);
        b.start();
        assertThrows(IllegalStateException.class, b::start);
        b.close();
        assertThrows(IllegalStateException.class, b::start);
    }

    @Test
    void badConfigurationsAreRefusedWithTheLimit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvmConfig.of(1, 3L << 20, log::add));
        assertTrue(e.getMessage().contains("multiple of 2 MiB"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> KvmConfig.of(0, RAM, log::add));
        assertTrue(e.getMessage().contains("vCPU count"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new KvmBackend(0, KvmConfig.of(1, RAM, log::add), c -> 0));
        assertTrue(e.getMessage().contains("guest domid"), e.getMessage());
    }

    /** A frame far above the 2 MiB of RAM, in the first GiB that {@link LongMode} maps with 2 MiB pages. */
    static final long HOLE_GFN = 0x8000;

    @Test
    void aGuestReadsAndWritesAnExtraPageInAHoleAndTheHostSeesIt() throws InterruptedException {
        try (KvmBackend b = backend()) {
            MemorySegment page = b.memory().mapExtraPage(HOLE_GFN);
            assertNotNull(page, "a hole above RAM can be backed");
            assertEquals(1, b.extraPages());
            page.set(ValueLayout.JAVA_LONG, 0, 0x1234_5678L);
            // mov rax, [0x8000000]; add rax, 1; mov [0x8000008], rax; out eax to 0x80; cli; hlt
            enter(b, bytes(0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0x08, 0x48, 0x83, 0xc0, 0x01,
                    0x48, 0x89, 0x04, 0x25, 0x08, 0, 0, 0x08, 0xe7, 0x80, 0xfa, 0xf4), false);
            // the identity map's 2 MiB page over the hole (the PD follows the GDT, PML4 and PDPT)
            long hole = HOLE_GFN * KvmBackend.PAGE;
            b.memory().ram().set(ValueLayout.JAVA_LONG, TABLES + 3 * KvmBackend.PAGE + 8 * (hole >> 21), hole | 0x83);
            b.start();
            long[] out = outs.poll(10, TimeUnit.SECONDS);
            assertNotNull(out, "the guest ran: " + log + " " + b.failure());
            assertEquals(0x1234_5679L, out[1], "the guest read what the host wrote");
            assertEquals(0x1234_5679L, page.get(ValueLayout.JAVA_LONG, 8), "the host sees what the guest wrote");
            assertEquals(0x1234_5679L, b.memory().page(HOLE_GFN).get(ValueLayout.JAVA_LONG, 8), "page() finds it");
            assertEquals(0x1234_5679L, b.memory().slice(hole + 8, 8).get(ValueLayout.JAVA_LONG, 0), "slice() too");
        }
    }

    @Test
    void extraPagesOverRamSpecialFramesThePlatformWindowOrBeyondTheAddressWidthAreRefused() {
        try (KvmBackend b = backend()) {
            long ramFrames = RAM / KvmBackend.PAGE;
            assertNull(b.memory().mapExtraPage(0), "RAM");
            assertNull(b.memory().mapExtraPage(ramFrames - 1), "RAM");
            assertNull(b.memory().mapExtraPage(ramFrames + KvmBackend.SPECIAL_FRAMES - 1), "a special frame");
            assertNull(b.memory().mapExtraPage(0xfee00), "the local APIC");
            assertNull(b.memory().mapExtraPage(0xfec00), "the I/O APIC");
            assertNull(b.memory().mapExtraPage(KvmBackend.TSS_ADDR / KvmBackend.PAGE), "KVM's TSS");
            assertNull(b.memory().mapExtraPage(1L << 40), "2^52: beyond any physical address width");
            assertNull(b.memory().mapExtraPage(-1));
            assertEquals(0, b.extraPages());
            assertNotNull(b.memory().mapExtraPage(ramFrames + KvmBackend.SPECIAL_FRAMES), "right above the special frames");
            assertNull(b.memory().mapExtraPage(ramFrames + KvmBackend.SPECIAL_FRAMES), "already there");
            assertNotNull(b.memory().mapExtraPage(0x100000), "4 GiB, above the window");
        }
    }

    @Test
    void unmappingAnExtraPageFreesItsSlotAndCloseFreesTheRest() {
        MemorySegment kept;
        try (KvmBackend b = backend()) {
            MemorySegment page = b.memory().mapExtraPage(HOLE_GFN);
            assertTrue(b.memory().unmapExtraPage(HOLE_GFN));
            assertEquals(0, b.extraPages());
            assertNull(b.memory().page(HOLE_GFN), "gone from guest memory");
            assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_LONG, 0), "unmapped");
            assertFalse(b.memory().unmapExtraPage(HOLE_GFN), "nothing left to unmap");
            // the slot is free again: a page at the same frame and more than one page at a time
            for (long gfn = HOLE_GFN; gfn < HOLE_GFN + 64; gfn++) {
                assertNotNull(b.memory().mapExtraPage(gfn), "frame 0x" + Long.toHexString(gfn));
            }
            assertEquals(64, b.extraPages());
            kept = b.memory().page(HOLE_GFN);
        }
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0), "freed with the domain");
    }
}
