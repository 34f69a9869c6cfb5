package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.ConsoleIo;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.hypercall.RunstateArea;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.GuestConsole;

/**
 * What the host does as Xen's toolstack for each domain: the console ring and its port, the wall
 * clock, the runstate area; the host's end of the console; domain listeners.
 */
class ToolstackConsoleTest {
    private static final long RAM = HostFixture.RAM;
    private static final long ARG = 0x1000;
    private static final long AREA = 0x1800;
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

    @Test
    void xenBusConsolesAreKeptPerDomainAndPrintPrefixedLinesOfTheirOwn() {
        List<String> lines = new CopyOnWriteArrayList<>();
        DomainHandle d = host.createDomain(1, backend(1), lines::add);
        assertEquals(d.console(), d.console(0), "console 0 is the domain's own");
        GuestConsole one = d.console(1);
        assertEquals(one, d.console(1), "made once, kept as long as the domain");
        assertEquals(one, host.domain(1).console(1), "every handle sees the same console");
        assertNotEquals(one, d.console(2));
        byte[] half = "half a ".getBytes(StandardCharsets.US_ASCII);
        one.printed(half, 0, half.length);
        byte[] other = "from two\n".getBytes(StandardCharsets.US_ASCII);
        d.console(2).printed(other, 0, other.length);
        byte[] rest = "line\n".getBytes(StandardCharsets.US_ASCII);
        one.printed(rest, 0, rest.length);
        assertEquals(List.of("console2: from two", "console1: half a line"), lines, "lines never run into each other");
        byte[] typed = "ls\n".getBytes(StandardCharsets.US_ASCII);
        assertEquals(3, one.type(typed, 0, typed.length));
        assertEquals(3, host.domain(1).console(1).inputQueued(), "typed input waits in the host, not in a backend");
        assertEquals(0, d.console().inputQueued());
        assertThrows(IllegalArgumentException.class, () -> d.console(16));
        assertThrows(IllegalArgumentException.class, () -> d.console(-1));
    }

    @Test
    void everyDomainGetsAZeroedRingInItsSpecialFrameAndAPortOfferedToTheHost() {
        SoftwareBackend b = backend(1);
        long gfn = b.specialFrames().frame(SpecialFrames.CONSOLE);
        b.memory().page(gfn).fill((byte) 0x5a); // left over from an earlier guest
        DomainHandle d = host.createDomain(1, b, line -> { });
        assertEquals(gfn, d.hvmParam(HvmParam.CONSOLE_PFN));
        int port = (int) d.hvmParam(HvmParam.CONSOLE_EVTCHN);
        assertTrue(port > 0);
        PortStatus s = d.eventChannels().status(DomId.SELF, port);
        assertEquals(EvtchnStat.UNBOUND, s.status());
        assertEquals(DomId.HOST, s.remoteDom());
        assertArrayEquals(new byte[GuestMemory.PAGE_SIZE], b.memory().page(gfn).toArray(ValueLayout.JAVA_BYTE));
        assertThrows(IllegalArgumentException.class, () -> d.hvmParam(HvmParam.NR_PARAMS));
    }

    @Test
    void everyDomainGetsAZeroedXenstoreRingInItsStoreFrameAndAPortOfferedToTheHost() {
        SoftwareBackend b = backend(1);
        long gfn = b.specialFrames().frame(SpecialFrames.STORE);
        b.memory().page(gfn).fill((byte) 0x5a); // left over from an earlier guest: connection would not read 0
        DomainHandle d = host.createDomain(1, b, line -> { });
        assertEquals(gfn, d.hvmParam(HvmParam.STORE_PFN));
        int port = (int) d.hvmParam(HvmParam.STORE_EVTCHN);
        assertTrue(port > 0);
        assertNotEquals(d.hvmParam(HvmParam.CONSOLE_EVTCHN), port);
        PortStatus s = d.eventChannels().status(DomId.SELF, port);
        assertEquals(EvtchnStat.UNBOUND, s.status());
        assertEquals(DomId.HOST, s.remoteDom());
        assertArrayEquals(new byte[GuestMemory.PAGE_SIZE], b.memory().page(gfn).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(HostFixture.RAM, d.ramBytes(), "the RAM, without the special frames");
        assertThrows(IllegalArgumentException.class, () -> d.hvmParam(HvmParam.NR_PARAMS));
    }

    @Test
    void aBackendWithoutSpecialFramesGivesNoConsole() {
        SoftwareBackend b = backend(2);
        VcpuBackend plain = new VcpuBackend() {
            @Override
            public int vcpuCount() {
                return 1;
            }

            @Override
            public GuestMemory memory() {
                return b.memory();
            }

            @Override
            public long tscHz() {
                return b.tscHz();
            }

            @Override
            public long tsc() {
                return b.tsc();
            }

            @Override
            public void deliverUpcall(int vcpu, UpcallRoute route) {
            }
        };
        DomainHandle d = host.createDomain(2, plain, line -> { });
        assertEquals(0, d.hvmParam(HvmParam.CONSOLE_PFN));
        assertEquals(0, d.hvmParam(HvmParam.CONSOLE_EVTCHN));
        assertEquals(0, d.hvmParam(HvmParam.STORE_PFN));
        assertEquals(0, d.hvmParam(HvmParam.STORE_EVTCHN));
        assertEquals(List.of(), d.ports());
    }

    @Test
    void theGuestReadsItsConsoleParameters() throws InterruptedException {
        SoftwareBackend b = backend(3);
        DomainHandle d = host.createDomain(3, b, line -> { });
        long[] got = new long[2];
        b.start(cpu -> {
            MemorySegment ram = b.memory().ram();
            for (int i = 0; i < 2; i++) {
                int index = i == 0 ? HvmParam.CONSOLE_PFN : HvmParam.CONSOLE_EVTCHN;
                ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, ARG, (short) DomId.SELF);
                ram.set(ValueLayout.JAVA_INT_UNALIGNED, ARG + 4, index);
                assertEquals(0, cpu.hypercall(Hypercall.HVM_OP, 1 /* HVMOP_get_param */, ARG));
                got[i] = ram.get(ValueLayout.JAVA_LONG_UNALIGNED, ARG + 8);
            }
        });
        assertTrue(b.join(Duration.ofSeconds(10)));
        assertEquals(d.hvmParam(HvmParam.CONSOLE_PFN), got[0]);
        assertEquals(d.hvmParam(HvmParam.CONSOLE_EVTCHN), got[1]);
    }

    @Test
    void consoleIoOutputTypedInputAndAttachedStreamsMeetAtTheHostConsole() throws Exception {
        SoftwareBackend b = backend(4);
        List<String> lines = new CopyOnWriteArrayList<>();
        DomainHandle d = host.createDomain(4, b, lines::add);
        GuestConsole console = d.console();
        console.printed("early\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
        b.start(cpu -> {
            byte[] text = "from console_io\n".getBytes(StandardCharsets.US_ASCII);
            MemorySegment.copy(text, 0, b.memory().ram(), ValueLayout.JAVA_BYTE, TEXT, text.length);
            cpu.hypercall(Hypercall.CONSOLE_IO, ConsoleIo.WRITE, text.length, TEXT);
        });
        assertTrue(b.join(Duration.ofSeconds(10)));
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        AutoCloseable attached = console.attach(raw);
        assertEquals("early\nfrom console_io\n", raw.toString(StandardCharsets.US_ASCII), "the history first");
        console.printed("\u001b[1mlive\n".getBytes(StandardCharsets.US_ASCII), 0, 9);
        attached.close();
        console.printed("after\n".getBytes(StandardCharsets.US_ASCII), 0, 6);
        assertEquals("early\nfrom console_io\n\u001b[1mlive\n", raw.toString(StandardCharsets.US_ASCII),
                "raw bytes while attached, escape sequences and all");
        assertEquals(List.of("early", "from console_io", "[1mlive", "after"), lines, "lines: printable only");

        // A terminal that fails is dropped; the console goes on.
        console.attach(new OutputStream() {
            @Override
            public void write(int c) throws IOException {
                throw new IOException("gone");
            }
        });
        console.printed("x\n".getBytes(StandardCharsets.US_ASCII), 0, 2);
        assertEquals("x", lines.get(lines.size() - 1));

        byte[] typed = new byte[GuestConsole.INPUT_CAPACITY + 10];
        assertEquals(GuestConsole.INPUT_CAPACITY, console.type(typed, 0, typed.length), "a bounded queue");
        assertEquals(0, console.type(typed, 0, 1));
        byte[] into = new byte[100];
        assertEquals(100, console.takeInput(into, 0, 100));
        assertEquals(GuestConsole.INPUT_CAPACITY - 100, console.inputQueued());
        assertEquals(1, console.type("z".getBytes(StandardCharsets.US_ASCII), 0, 1));
        byte[] rest = new byte[GuestConsole.INPUT_CAPACITY];
        assertEquals(GuestConsole.INPUT_CAPACITY - 99, console.takeInput(rest, 0, rest.length));
        assertEquals('z', rest[GuestConsole.INPUT_CAPACITY - 100], "in order, the last typed last");
        assertEquals(0, console.takeInput(rest, 0, 1));
    }

    @Test
    void listenersHearOfEveryDomainOnceCreatedBeforeDestroyed() {
        List<String> heard = new CopyOnWriteArrayList<>();
        DomainListener early = listener("early", heard);
        host.addListener(early);
        host.createDomain(5, backend(5), line -> { });
        DomainListener late = listener("late", heard);
        host.addListener(late);
        host.addListener(new DomainListener() {
            @Override
            public void domainCreated(DomainHandle domain) {
                throw new IllegalStateException("a broken third party");
            }

            @Override
            public void domainDestroyed(DomainHandle domain) {
                throw new IllegalStateException("a broken third party");
            }
        });
        host.createDomain(6, backend(6), line -> { });
        assertTrue(host.destroyDomain(5));
        host.removeListener(early);
        assertTrue(host.destroyDomain(6));
        assertFalse(host.destroyDomain(6));
        assertEquals(List.of("early +5", "late +5", "early +6", "late +6", "early -5", "late -5", "late -6"), heard);
    }

    private static DomainListener listener(String name, List<String> heard) {
        return new DomainListener() {
            @Override
            public void domainCreated(DomainHandle domain) {
                heard.add(name + " +" + domain.domid());
            }

            @Override
            public void domainDestroyed(DomainHandle domain) {
                heard.add(name + " -" + domain.domid());
            }
        };
    }

    @Test
    void sharedInfoCarriesTheWallClockOfSystemTimeZero() {
        SoftwareBackend b = backend(7);
        Instant before = Instant.now();
        host.createDomain(7, b, line -> { });
        Instant after = Instant.now();
        // The guest has not mapped shared_info: map it now and read the clock Linux reads at boot.
        MemorySegment page = b.memory().page(3);
        b.start(cpu -> {
            MemorySegment ram = b.memory().ram();
            ram.set(ValueLayout.JAVA_SHORT_UNALIGNED, ARG, (short) DomId.SELF);
            ram.set(ValueLayout.JAVA_INT_UNALIGNED, ARG + 4, 0);
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, ARG + 8, 0);
            ram.set(ValueLayout.JAVA_LONG_UNALIGNED, ARG + 16, 3);
            assertEquals(0, cpu.hypercall(Hypercall.MEMORY_OP, 7 /* XENMEM_add_to_physmap */, ARG));
        });
        assertJoined(b);
        SharedInfoLayout l = SharedInfoLayout.X86_64;
        int version = page.get(ValueLayout.JAVA_INT_UNALIGNED, l.wcVersion());
        assertEquals(0, version % 2, "even: not being written");
        assertTrue(version > 0);
        long sec = Integer.toUnsignedLong(page.get(ValueLayout.JAVA_INT_UNALIGNED, l.wcSec()))
                | (long) page.get(ValueLayout.JAVA_INT_UNALIGNED, l.wcSecHi()) << 32;
        Instant wc = Instant.ofEpochSecond(sec, page.get(ValueLayout.JAVA_INT_UNALIGNED, l.wcNsec()));
        assertFalse(wc.isBefore(before.minusSeconds(1)), wc + " before " + before);
        assertFalse(wc.isAfter(after), wc + " after " + after);
    }

    @Test
    void aRunstateAreaIsTakenAndFilledAsRunning() throws InterruptedException {
        SoftwareBackend b = backend(8);
        host.createDomain(8, b, line -> { });
        long[] rc = new long[3];
        b.start(cpu -> {
            MemorySegment ram = b.memory().ram();
            ram.asSlice(AREA, 48).fill((byte) 0x77);
            new RunstateArea(AREA).write(ram.asSlice(ARG, RunstateArea.SIZE));
            rc[0] = cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.REGISTER_RUNSTATE_MEMORY_AREA, 0, ARG);
            rc[1] = cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.REGISTER_RUNSTATE_MEMORY_AREA, 0, RAM * 16);
            rc[2] = cpu.hypercall(Hypercall.VCPU_OP, VcpuOp.REGISTER_RUNSTATE_MEMORY_AREA, 1, ARG);
        });
        assertJoined(b);
        assertEquals(0, rc[0]);
        assertEquals(-14, rc[1], "-EFAULT: the argument is outside guest memory");
        assertEquals(-2, rc[2], "-ENOENT: no vCPU 1");
        MemorySegment info = b.memory().ram().asSlice(AREA, 48);
        assertEquals(RunstateArea.RUNNING, info.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        long entry = info.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        assertTrue(entry >= 0);
        assertEquals(entry, info.get(ValueLayout.JAVA_LONG_UNALIGNED, 16), "running all the time since boot");
        for (int i = 1; i < 4; i++) {
            assertEquals(0, info.get(ValueLayout.JAVA_LONG_UNALIGNED, 16 + 8L * i), "no time runnable, blocked, offline");
        }
    }

    private static void assertJoined(SoftwareBackend b) {
        try {
            assertTrue(b.join(Duration.ofSeconds(10)), "the guest code did not return");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

}
