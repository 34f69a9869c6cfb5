package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.save.StreamSeal;
import xen.evtchn.impl.time.ManualTimerProvider;
import xen.evtchn.impl.time.TimerState;

/**
 * Save on one host, restore on a fresh one: every port, the callback and vectors, vcpu_info and
 * shared_info, HVM parameters, timers in guest time, and the named backends' bindings come back,
 * and the guest's pending bits in its memory are where they were. Bad streams are refused with
 * nothing left behind.
 */
class SaveRestoreTest {
    static final long SECOND = 1_000_000_000L;
    static final int VCPUS = 4;
    static final long RAM = 1L << 20;
    static final long SHARED_INFO_GFN = 8;
    static final long VCPU_INFO_GFN = 9;

    final ManualTimerProvider clockA = new ManualTimerProvider(0);
    final ManualTimerProvider clockB = new ManualTimerProvider(900 * SECOND);
    final XenHost a = new XenHost(clockA, (d, r) -> { });
    final XenHost b = new XenHost(clockB, (d, r) -> { });
    final List<SoftwareBackend> backends = new ArrayList<>();

    @AfterEach
    void tearDown() {
        backends.forEach(SoftwareBackend::close);
    }

    SoftwareBackend backend(XenHost host, int domid) {
        SoftwareBackend s = new SoftwareBackend(domid, VCPUS, RAM, host.dispatcher());
        backends.add(s);
        return s;
    }

    Domain domain(XenHost host, int domid, SoftwareBackend vcpus) {
        return host.createDomain(domid, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT.withVersion(4, 19),
                DomainConsole.inMemory());
    }

    /** Ports of every kind, a loop, a named backend with an event it has not taken, timers, bits. */
    static final class Workload {
        int timer0;
        int ipi1;
        int toHost;
        int toDom7;
        int loopA;
        int loopB;
        int debugVirq;
        int hostPort;
        int pendingMasked;
    }

    Workload populate(XenHost host, Domain p) throws EvtchnException {
        GuestEventChannels d = p.events();
        Workload w = new Workload();
        assertEquals(0, d.mapSharedInfo(SHARED_INFO_GFN));
        for (int v = 0; v < VCPUS; v++) {
            assertEquals(0, d.registerVcpuInfo(v, VCPU_INFO_GFN, v * 64));
        }
        p.setParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(0xf3));
        p.setParam(HvmParam.STORE_EVTCHN, 5);
        d.upcalls().setVcpuVector(2, new UpcallRoute.LapicVector(0x40));
        w.timer0 = d.bindVirq(Virq.TIMER.number(), 0);
        assertTrue(d.bindVirq(Virq.TIMER.number(), 3) > 0);
        w.ipi1 = d.bindIpi(1);
        w.toHost = d.allocUnbound(DomId.SELF, DomId.HOST);
        w.toDom7 = d.allocUnbound(DomId.SELF, 7);
        w.loopA = d.allocUnbound(DomId.SELF, DomId.SELF);
        w.loopB = d.bindInterdomain(DomId.SELF, w.loopA);
        w.debugVirq = d.bindVirq(Virq.CONSOLE.number(), 0);
        assertEquals(0, d.bindVcpu(w.debugVirq, 2), "a global VIRQ moved to vCPU 2");
        w.pendingMasked = d.bindIpi(0);
        int filler = d.allocUnbound(DomId.SELF, DomId.HOST);
        for (int i = 0; i < 70; i++) {
            assertTrue(d.allocUnbound(DomId.SELF, 3) > 0); // enough ports to span two groups
        }
        assertEquals(0, d.close(filler), "a hole in the port numbers");
        EvtchnHandle blk = host.eventChannels().host().open("blk");
        w.hostPort = blk.bindInterdomain(p.domid(), w.toHost);
        assertEquals(w.hostPort, blk.pending(), "the bind raised the host end");
        blk.unmask(w.hostPort);
        // Bits in guest memory: a masked port pending, an IPI pending and delivered.
        maskPort(d, w.pendingMasked);
        assertEquals(0, d.send(w.pendingMasked));
        assertEquals(0, d.send(w.ipi1));
        assertEquals(0, d.send(w.toHost), "an event for the backend it does not take before the save");
        p.time().timers().setSingleshot(1, p.time().clock().now() + 5 * SECOND);
        assertEquals(0, p.time().timers().setPeriodic(3, 10_000_000L));
        return w;
    }

    static void maskPort(GuestEventChannels d, int port) {
        long offset = GuestWidth.X86_64.sharedInfo().evtchnMask() + 8L * (port / 64);
        long word = d.sharedInfo().get(ValueLayout.JAVA_LONG, offset);
        d.sharedInfo().set(ValueLayout.JAVA_LONG, offset, word | 1L << (port % 64));
    }

    static List<PortStatus> statuses(GuestEventChannels d) {
        List<PortStatus> all = new ArrayList<>();
        for (int port = 0; port < d.validPorts(); port++) {
            all.add(d.status(DomId.SELF, port));
        }
        return all;
    }

    static List<Boolean> bits(GuestEventChannels d) {
        List<Boolean> all = new ArrayList<>();
        for (int port = 0; port < d.validPorts(); port++) {
            all.add(d.isPending(port));
            all.add(d.isMasked(port));
        }
        return all;
    }

    @Test
    void aDomainComesBackWholeOnAFreshHost() throws Exception {
        SoftwareBackend vcpusA = backend(a, 1);
        Domain pa = domain(a, 1, vcpusA);
        Workload w = populate(a, pa);
        List<PortStatus> portsBefore = statuses(pa.events());
        List<Boolean> bitsBefore = bits(pa.events());
        TimerState t1 = pa.time().timers().state(1);
        TimerState t3 = pa.time().timers().state(3);

        byte[] stream = SaveStream.write(a.save(1));
        assertEquals(0, clockA.armed(), "the save stopped the timers on the old host");
        assertTrue(a.destroyDomain(1));
        clockA.advanceTo(1000 * SECOND);
        assertEquals(0, pa.time().timers().fired(1) + pa.time().timers().fired(3), "nothing fires there any more");

        SoftwareBackend vcpusB = backend(b, 1);
        vcpusB.memory().ram().copyFrom(vcpusA.memory().ram()); // what a VMM's migration does
        Domain pb = b.restoreDomain(1, SaveStream.read(stream), vcpusB, DomainConsole.inMemory());
        GuestEventChannels d = pb.events();

        assertEquals(portsBefore, statuses(d), "every port, with its vCPU, VIRQ and peer");
        assertEquals(bitsBefore, bits(d), "pending and mask bits, from the guest's memory: the destroy left them");
        assertEquals(vcpusB.memory().page(SHARED_INFO_GFN).address(), d.sharedInfo().address(), "shared_info where the guest put it");
        for (int v = 0; v < VCPUS; v++) {
            assertEquals(vcpusB.memory().page(VCPU_INFO_GFN).address() + v * 64L, d.vcpuInfo(v).address());
        }
        assertEquals(CallbackVia.vector(0xf3), pb.param(HvmParam.CALLBACK_IRQ));
        assertEquals(new UpcallRoute.Vector(0xf3), d.upcalls().callback());
        assertEquals(5, pb.param(HvmParam.STORE_EVTCHN));
        assertEquals(0x40013, pb.version().version(), "the Xen it was told: 4.19");
        assertEquals(t1, pb.time().timers().state(1), "the singleshot deadline in guest time");
        assertEquals(t3, pb.time().timers().state(3));
        assertTrue(pb.time().clock().now() >= t1.singleshot() - 5 * SECOND, "system time carries on from the save");

        // The IPI that was pending reached vCPU 1 again by the callback route.
        assertEquals(new UpcallRoute.Vector(0xf3), vcpusB.vcpu(1).lastRoute());
        // vCPU 2 keeps its own vector.
        assertEquals(0, d.send(d.bindIpi(2)));
        assertEquals(new UpcallRoute.LapicVector(0x40), vcpusB.vcpu(2).lastRoute());
        // The loop is connected under the new host.
        clearPending(d, w.loopB);
        assertEquals(0, d.send(w.loopA));
        assertTrue(d.isPending(w.loopB));

        // The backend takes its handle over by name: the binding and the event it had not taken.
        assertTrue(b.eventChannels().host().isParked("blk"));
        EvtchnHandle blk = b.eventChannels().host().open("blk");
        assertEquals(new BackendState("blk", List.of(new BackendState.Binding(w.hostPort, 1, w.toHost))), blk.state());
        assertEquals(w.hostPort, blk.pending(1, TimeUnit.SECONDS), "the event queued at the save");
        assertEquals(-1, blk.pending(), "once");
        blk.unmask(w.hostPort);
        clearPending(d, w.toHost);
        blk.notify(w.hostPort);
        assertTrue(d.isPending(w.toHost), "the backend reaches the guest");
        assertEquals(0, d.send(w.toHost));
        assertEquals(w.hostPort, blk.pending(1, TimeUnit.SECONDS), "and the guest the backend");

        // Timers fire on the new host's provider, once, at their guest-time deadlines.
        clockB.advanceTo(clockB.now() + 6 * SECOND);
        assertEquals(1, pb.time().timers().fired(1), "the singleshot timer");
        assertTrue(pb.time().timers().fired(3) >= 1, "the periodic timer");
    }

    static void clearPending(GuestEventChannels d, int port) {
        long offset = GuestWidth.X86_64.sharedInfo().evtchnPending() + 8L * (port / 64);
        long word = d.sharedInfo().get(ValueLayout.JAVA_LONG, offset);
        d.sharedInfo().set(ValueLayout.JAVA_LONG, offset, word & ~(1L << (port % 64)));
    }

    @Test
    void theStreamReadsBackToTheSameBytes() throws Exception {
        SoftwareBackend vcpusA = backend(a, 1);
        populate(a, domain(a, 1, vcpusA));
        byte[] stream = SaveStream.write(a.save(1));
        assertArrayEquals(stream, SaveStream.write(SaveStream.read(stream)));
    }

    @Test
    void aSharedInfoNeverMappedTravelsInTheStream() {
        SoftwareBackend vcpusA = backend(a, 1);
        Domain pa = domain(a, 1, vcpusA);
        int ipi = pa.events().bindIpi(0);
        assertEquals(0, pa.events().send(ipi));
        byte[] stream = SaveStream.write(a.save(1));
        a.destroyDomain(1);
        Domain pb = b.restoreDomain(1, SaveStream.read(stream), backend(b, 1), DomainConsole.inMemory());
        assertTrue(pb.events().isPending(ipi), "the bit in the hypervisor's own shared_info page");
        assertNotEquals(0, pb.events().vcpuInfo(0).get(ValueLayout.JAVA_BYTE, 0), "upcall_pending too");
    }

    @Test
    void anotherDomidAndAPeerThatIsNotThere() throws Exception {
        SoftwareBackend v1 = backend(a, 1);
        SoftwareBackend v2 = backend(a, 2);
        GuestEventChannels d1 = domain(a, 1, v1).events();
        GuestEventChannels d2 = domain(a, 2, v2).events();
        int offered = d2.allocUnbound(DomId.SELF, 1);
        int p1 = d1.bindInterdomain(2, offered);
        int loopA = d1.allocUnbound(DomId.SELF, DomId.SELF);
        int loopB = d1.bindInterdomain(DomId.SELF, loopA);
        DomainImage one = a.save(1);
        DomainImage two = a.save(2);

        // dom1 alone, as dom5: its channel to dom2 waits, unbound, for dom2; the loop is dom5's.
        GuestEventChannels d5 = b.restoreDomain(5, one, backend(b, 5), DomainConsole.inMemory()).events();
        assertEquals(new PortStatus(0, EvtchnStat.UNBOUND, 0, 2, 0, 0, 0), d5.status(DomId.SELF, p1));
        assertEquals(new PortStatus(0, EvtchnStat.INTERDOMAIN, 0, 5, loopB, 0, 0), d5.status(DomId.SELF, loopA));

        // Both into a third host, dom2 first: when dom1 comes, the channel is whole again, both ends raised.
        XenHost c = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        GuestEventChannels c2 = c.restoreDomain(2, two, backend(c, 2), DomainConsole.inMemory()).events();
        assertEquals(EvtchnStat.UNBOUND, c2.status(DomId.SELF, offered).status(), "dom1 is not there yet");
        clearPending(c2, offered);
        GuestEventChannels c1 = c.restoreDomain(1, one, backend(c, 1), DomainConsole.inMemory()).events();
        assertEquals(new PortStatus(0, EvtchnStat.INTERDOMAIN, 0, 2, offered, 0, 0), c1.status(DomId.SELF, p1));
        assertEquals(new PortStatus(0, EvtchnStat.INTERDOMAIN, 0, 1, p1, 0, 0), c2.status(DomId.SELF, offered));
        assertTrue(c2.isPending(offered), "the reconnected end is raised, as a bind raises it");
        clearPending(c2, offered);
        assertEquals(0, c1.send(p1));
        assertTrue(c2.isPending(offered));
    }

    @Test
    void aThirtyTwoBitDomainKeepsItsLimit() {
        SoftwareBackend vcpusA = backend(a, 1);
        Domain pa = a.createDomain(1, GuestWidth.X86_32, vcpusA, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
        int last = 0;
        for (int port; (port = pa.events().bindIpi(0)) > 0;) {
            last = port;
        }
        assertEquals(1023, last);
        DomainImage image = a.save(1);
        a.destroyDomain(1);
        GuestEventChannels d = b.restoreDomain(1, SaveStream.read(SaveStream.write(image)), backend(b, 1), DomainConsole.inMemory()).events();
        assertEquals(GuestWidth.X86_32, d.width());
        assertEquals(1024, d.validPorts());
        assertTrue(d.bindIpi(0) < 0, "still full at 1024 ports (XSA-342)");
    }

    /** Found by the two-vCPU hypercall fuzzer: the host refused its own stream for such a port. */
    @Test
    void aPortOfferedToAReservedDomidSurvivesTheStream() {
        SoftwareBackend vcpusA = backend(a, 1);
        GuestEventChannels d = domain(a, 1, vcpusA).events();
        int port = d.allocUnbound(DomId.SELF, 0xA93C);
        assertTrue(port > 0, "Xen stores any domid_t the port is offered to");
        DomainImage image = SaveStream.read(SaveStream.write(a.save(1)));
        a.destroyDomain(1);
        GuestEventChannels restored = b.restoreDomain(1, image, backend(b, 1), DomainConsole.inMemory()).events();
        assertEquals(new PortStatus(0, EvtchnStat.UNBOUND, 0, 0xA93C, 0, 0, 0), restored.status(DomId.SELF, port));
    }

    // ---- refusals ----

    byte[] savedStream() throws Exception {
        SoftwareBackend vcpusA = backend(a, 1);
        populate(a, domain(a, 1, vcpusA));
        return SaveStream.write(a.save(1));
    }

    void assertNothingLeft(XenHost host) {
        assertNull(host.eventChannels().guest(1), "no domain");
        assertNull(host.domains().get(1), "no platform");
        assertTrue(host.eventChannels().host().backends().isEmpty(), "no handle: " + host.eventChannels().host().backends());
    }

    @Test
    void everyTruncationAndEveryFlippedByteIsRefused() throws Exception {
        byte[] stream = savedStream();
        for (int length = 0; length < stream.length; length++) {
            byte[] cut = Arrays.copyOf(stream, length);
            SaveStreamException e = assertThrows(SaveStreamException.class, () -> SaveStream.read(cut), "cut at " + length);
            assertFalse(e.getMessage().isEmpty());
        }
        for (int at = 0; at < stream.length; at++) {
            byte[] bad = stream.clone();
            bad[at] ^= 0x10;
            assertThrows(SaveStreamException.class, () -> SaveStream.read(bad), "byte " + at + " flipped");
        }
        byte[] longer = Arrays.copyOf(stream, stream.length + 1);
        assertThrows(SaveStreamException.class, () -> SaveStream.read(longer));
    }

    @Test
    void theMessagesSayWhatIsWrong() throws Exception {
        byte[] stream = savedStream();
        assertMessage("truncated", Arrays.copyOf(stream, stream.length - 10));
        assertMessage("not a save stream", "hello, world, this is not it".getBytes());
        byte[] v4 = stream.clone();
        v4[8] = 4;
        assertMessage("format version 4; this host reads versions 1 to 3", v4);
        byte[] flipped = stream.clone();
        flipped[40] ^= 1;
        assertMessage("corrupted", flipped);
        // A consistent checksum over a bad field: the reader's own checks.
        byte[] width = stream.clone();
        width[StreamSeal.HEADER + StreamSeal.RECORD_HEADER + 1] = 9; // the byte after domid 1, in the first record
        assertMessage("width is neither", StreamSeal.resealed(width));
    }

    static void assertMessage(String part, byte[] stream) {
        SaveStreamException e = assertThrows(SaveStreamException.class, () -> SaveStream.read(stream));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void aStreamThatDoesNotFitTheBackendOrTheHostLeavesNothingBehind() throws Exception {
        byte[] stream = savedStream();
        DomainImage image = SaveStream.read(stream);

        SoftwareBackend twoVcpus = new SoftwareBackend(1, 2, RAM, b.dispatcher());
        backends.add(twoVcpus);
        SaveStreamException e = assertThrows(SaveStreamException.class,
                () -> b.restoreDomain(1, image, twoVcpus, DomainConsole.inMemory()));
        assertTrue(e.getMessage().contains("4 vCPUs"), e.getMessage());
        assertNothingLeft(b);

        // 2 frames of RAM and the special frames above them: shared_info's frame is past them all.
        SoftwareBackend small = new SoftwareBackend(1, VCPUS, 2 * 4096, b.dispatcher());
        backends.add(small);
        e = assertThrows(SaveStreamException.class, () -> b.restoreDomain(1, image, small, DomainConsole.inMemory()));
        assertTrue(e.getMessage().contains("outside the backend's guest RAM"), e.getMessage());
        assertNothingLeft(b);

        // A host whose backend ports are all taken cannot take the binding.
        EvtchnHandle hog = b.eventChannels().host().open();
        SoftwareBackend filler = backend(b, 9);
        Domain p9 = domain(b, 9, filler);
        GuestEventChannels d9 = p9.events();
        List<Integer> offered = new ArrayList<>(List.of((int) p9.param(HvmParam.CONSOLE_EVTCHN),
                (int) p9.param(HvmParam.STORE_EVTCHN))); // the toolstack's
        for (int port; (port = d9.allocUnbound(DomId.SELF, DomId.HOST)) > 0;) {
            offered.add(port);
        }
        int hostPorts = 0;
        for (int port : offered) {
            try {
                hog.bindInterdomain(9, port);
                hostPorts++;
            } catch (EvtchnException full) {
                break;
            }
        }
        assertEquals(4095, hostPorts, "every host port taken");
        IllegalStateException full = assertThrows(IllegalStateException.class,
                () -> b.restoreDomain(1, image, backend(b, 1), DomainConsole.inMemory()));
        assertTrue(full.getMessage().contains("host ports"), full.getMessage());
        assertNull(b.eventChannels().guest(1));
        assertTrue(b.eventChannels().host().backends().isEmpty(), "no handle parked for the refused restore");

        hog.close();
        assertEquals(1, b.restoreDomain(1, image, backend(b, 1), DomainConsole.inMemory()).domid(), "then it fits");
    }
}
