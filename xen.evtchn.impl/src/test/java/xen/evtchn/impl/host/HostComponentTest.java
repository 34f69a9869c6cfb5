package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.software.SoftwareVcpu;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.ConsoleIo;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.abi.hypercall.SchedShutdown;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.host.DomainHandle;

/** The host component without a framework: domains, shutdown routing, console lines. */
class HostComponentTest {
    private static final long ARG = 0x1000;
    private static final long TEXT = 0x2000;

    private final HostFixture fixture = new HostFixture();
    private final HostComponent host = fixture.host;

    @AfterEach
    void tearDown() {
        fixture.close();
    }

    private SoftwareBackend backend(int domid) {
        return fixture.backend(domid);
    }

    /** Runs {@code code} on the domain's one vCPU and waits for it. */
    private static void run(SoftwareBackend b, GuestStep code) throws InterruptedException {
        b.start(cpu -> code.run(cpu, b.memory().ram()));
        assertTrue(b.join(Duration.ofSeconds(10)), "the guest code did not return");
    }

    @FunctionalInterface
    private interface GuestStep {
        void run(SoftwareVcpu cpu, MemorySegment ram);
    }

    private static long shutdown(SoftwareVcpu cpu, MemorySegment ram, int reason) {
        new SchedShutdown(reason).write(ram.asSlice(ARG, SchedShutdown.SIZE));
        return cpu.hypercall(Hypercall.SCHED_OP, SchedOp.SHUTDOWN, ARG);
    }

    private static long consoleWrite(SoftwareVcpu cpu, MemorySegment ram, byte[] text) {
        MemorySegment.copy(text, 0, ram, ValueLayout.JAVA_BYTE, TEXT, text.length);
        return cpu.hypercall(Hypercall.CONSOLE_IO, ConsoleIo.WRITE, text.length, TEXT);
    }

    @Test
    void aBackendMapsAndCopiesWhatAGuestGrantedThroughTheHostsGrantTables() throws Exception {
        SoftwareBackend b = backend(4);
        host.createDomain(4, b, line -> { });
        long table = 8;
        int granted = 9;
        run(b, (cpu, ram) -> {
            new AddToPhysmap(DomId.SELF, 0, XenMapSpace.GRANT_TABLE, 0, table).write(ram.asSlice(ARG, 24), GuestWidth.X86_64);
            assertEquals(0, cpu.hypercall(Hypercall.MEMORY_OP, XenMem.ADD_TO_PHYSMAP, ARG));
            ram.set(ValueLayout.JAVA_INT, table * 4096 + 2 * GrantEntry.SIZE + GrantEntry.FRAME, granted);
            ram.set(ValueLayout.JAVA_SHORT, table * 4096 + 2 * GrantEntry.SIZE, (short) GrantEntry.GTF_PERMIT_ACCESS);
            ram.set(ValueLayout.JAVA_LONG, granted * 4096L, 0x1122334455667788L);
        });
        try (GrantMapping m = host.map(4, 2, false)) {
            assertEquals(0x1122334455667788L, m.page().get(ValueLayout.JAVA_LONG, 0));
        }
        byte[] copy = new byte[8];
        host.copyFrom(4, 2, 0, MemorySegment.ofArray(copy));
        assertEquals(0x11, copy[7]);
        assertEquals(GrantStatus.BAD_DOMAIN, assertThrows(GrantException.class, () -> host.map(5, 2, false)).status());
        assertEquals(GrantStatus.GENERAL_ERROR, assertThrows(GrantException.class, () -> host.map(4, 3, false)).status());
    }

    @Test
    void eachDomainsShutdownReachesItsOwnHandleOnce() throws InterruptedException {
        SoftwareBackend b1 = backend(1);
        SoftwareBackend b2 = backend(2);
        DomainHandle d1 = host.createDomain(1, b1, line -> { });
        DomainHandle d2 = host.createDomain(2, b2, line -> { });
        List<String> seen = new CopyOnWriteArrayList<>();
        d1.onShutdown(r -> seen.add("dom1 " + SchedOp.shutdownReason(r)));
        d2.onShutdown(r -> seen.add("dom2 " + SchedOp.shutdownReason(r)));
        assertEquals(DomainHandle.RUNNING, d1.shutdownReason());

        run(b2, (cpu, ram) -> {
            assertEquals(0, shutdown(cpu, ram, SchedOp.SHUTDOWN_REBOOT));
            assertEquals(0, shutdown(cpu, ram, SchedOp.SHUTDOWN_CRASH)); // the first reason counts
        });
        assertEquals(List.of("dom2 reboot"), seen);
        assertEquals(SchedOp.SHUTDOWN_REBOOT, d2.shutdownReason());
        assertEquals(DomainHandle.RUNNING, d1.shutdownReason());

        run(b1, (cpu, ram) -> assertEquals(0, shutdown(cpu, ram, SchedOp.SHUTDOWN_POWEROFF)));
        assertEquals(List.of("dom2 reboot", "dom1 poweroff"), seen);

        // A listener added after the shutdown hears of it at once.
        List<Integer> late = new ArrayList<>();
        d1.onShutdown(late::add);
        assertEquals(List.of(SchedOp.SHUTDOWN_POWEROFF), late);
    }

    @Test
    void aSoftResetIsNotAShutdown() throws InterruptedException {
        SoftwareBackend b = backend(3);
        DomainHandle d = host.createDomain(3, b, line -> { });
        List<Integer> seen = new ArrayList<>();
        d.onShutdown(seen::add);
        run(b, (cpu, ram) -> assertEquals(0, shutdown(cpu, ram, SchedOp.SHUTDOWN_SOFT_RESET)));
        assertEquals(List.of(), seen);
        assertEquals(DomainHandle.RUNNING, d.shutdownReason());
    }

    @Test
    void consoleOutputArrivesAsPrintableLines() throws InterruptedException {
        SoftwareBackend b = backend(4);
        List<String> lines = new CopyOnWriteArrayList<>();
        host.createDomain(4, b, lines::add);
        run(b, (cpu, ram) -> {
            assertEquals(0, consoleWrite(cpu, ram, "hello\nwor".getBytes(StandardCharsets.US_ASCII)));
            assertEquals(0, consoleWrite(cpu, ram, "ld\u001b[31m\tred\r\n\n".getBytes(StandardCharsets.US_ASCII)));
        });
        assertEquals(List.of("hello", "world[31m\tred", ""), lines);
    }

    @Test
    void domainsAreCreatedOnceAndDestroyed() {
        SoftwareBackend b = backend(5);
        DomainHandle d = host.createDomain(5, b, line -> { });
        assertEquals(5, d.domid());
        assertEquals(1, d.vcpuCount());
        assertEquals(0, d.timerTicks(0));
        assertThrows(IndexOutOfBoundsException.class, () -> d.timerTicks(1));
        assertThrows(IllegalStateException.class, () -> host.createDomain(5, backend(5), line -> { }));

        assertThrows(IllegalArgumentException.class, () -> host.createDomain(0, b, line -> { }));
        assertFalse(host.destroyDomain(0), "a refused domid leaves nothing behind");

        assertTrue(host.destroyDomain(5));
        assertFalse(host.destroyDomain(5));
        DomainHandle again = host.createDomain(5, backend(5), line -> { });
        assertEquals(DomainHandle.RUNNING, again.shutdownReason());
    }

    @Test
    void handlerServicesJoinTheDispatcherByTheirNumberAndLeaveWithTheirService() {
        HypercallHandler physdev = call -> 4242;
        Map<String, Object> props = Map.of(HypercallHandler.NUMBER_PROPERTY, 33);
        assertEquals(-38, host.hypercalls().hypercall(new NumberOnly(33)), "physdev_op: none yet");
        host.addHandler(physdev, props);
        assertEquals(4242, host.hypercalls().hypercall(new NumberOnly(33)));
        host.addHandler(call -> 1, Map.of(HypercallHandler.NUMBER_PROPERTY, "32"));
        assertEquals(-38, host.hypercalls().hypercall(new NumberOnly(99)), "unknown numbers still -ENOSYS");
        host.removeHandler(physdev, props);
        assertEquals(-38, host.hypercalls().hypercall(new NumberOnly(33)), "gone with its service");
        assertEquals(-1, HostComponent.number(Map.of()));
        assertEquals(-1, HostComponent.number(Map.of(HypercallHandler.NUMBER_PROPERTY, "x")));
        assertEquals(-1, HostComponent.number(Map.of(HypercallHandler.NUMBER_PROPERTY, 64)));
        assertEquals(17, HostComponent.number(Map.of(HypercallHandler.NUMBER_PROPERTY, " 17 ")));
    }

    @Test
    void aCallFromAVcpuTheDomainLacksIsRefusedBeforeAnyFamily() {
        host.createDomain(6, backend(6), line -> { });
        HypercallContext fromVcpu3 = (HypercallContext) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {HypercallContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "number" -> Hypercall.SET_TIMER_OP;
                    case "domid" -> 6;
                    case "vcpu" -> 3;
                    case "longMode", "interruptsEnabled" -> true;
                    case "cpl" -> 0;
                    case "arg" -> 1_000_000L;
                    default -> null;
                });
        assertEquals(-22, host.hypercalls().hypercall(fromVcpu3), "-EINVAL: dom6 has one vCPU");
    }

    @Test
    void theStatsSwitchIsConfiguredAndABadChangeKeepsTheSetting() {
        HostComponent configured = new HostComponent(Map.of("stats", "true"));
        assertTrue(configured.countsEvents());
        configured.modified(Map.of("stats", false));
        assertFalse(configured.countsEvents(), "a change applies at once");
        configured.modified(Map.of("stats", "maybe"));
        assertFalse(configured.countsEvents(), "a bad change is refused, the setting kept");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new HostComponent(Map.of("stats", "yes")));
        assertEquals("configuration xen.host: stats must be true or false: got \"yes\"", e.getMessage());
        assertFalse(new HostComponent(Map.of()).countsEvents(), "off by default");
    }

    /** A call with only a number, from CPL 0. */
    private record NumberOnly(int number) implements HypercallContext {
        @Override
        public int domid() {
            return 1;
        }

        @Override
        public int vcpu() {
            return 0;
        }

        @Override
        public boolean longMode() {
            return true;
        }

        @Override
        public int cpl() {
            return 0;
        }

        @Override
        public long arg(int index) {
            return 0;
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return null;
        }
    }
}
