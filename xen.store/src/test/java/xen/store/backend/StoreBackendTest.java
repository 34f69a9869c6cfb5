package xen.store.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.evtchn.api.store.XenStoreWatch;
import xen.evtchn.impl.host.HostComponent;
import xen.store.tree.StoreException;
import xen.store.tree.XsError;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * The store against a real host on software vCPUs: each test domain's guest is played by a Java
 * client that writes requests into the ring in guest memory, raises its store port and reads the
 * replies, as Linux's xenbus does.
 */
class StoreBackendTest {
    private static final long RAM = 64 << 10;
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<SoftwareBackend> vcpus = new ArrayList<>();
    private StoreBackend backend = backend();

    private StoreBackend backend() {
        StoreBackend b = new StoreBackend(host, host, host, log::add);
        host.addListener(b);
        return b;
    }

    @AfterEach
    void tearDown() {
        for (DomainHandle d : host.domains()) {
            host.destroyDomain(d.domid());
        }
        host.removeListener(backend);
        backend.deactivate();
        vcpus.forEach(SoftwareBackend::close);
        timers.close();
    }

    private DomainHandle domain(int domid, int vcpuCount) throws InterruptedException {
        SoftwareBackend b = new SoftwareBackend(domid, vcpuCount, RAM, host.hypercalls());
        vcpus.add(b);
        DomainHandle d = host.createDomain(domid, b, line -> { });
        waitFor(() -> backend.domains().contains(domid));
        return d;
    }

    @Test
    void theHostOffersTheRingInTheStoreFrame() throws Exception {
        DomainHandle d = domain(1, 1);
        SpecialFrames special = vcpus.get(0).specialFrames();
        assertEquals(special.frame(SpecialFrames.STORE), d.hvmParam(HvmParam.STORE_PFN));
        int port = (int) d.hvmParam(HvmParam.STORE_EVTCHN);
        assertTrue(port > 0);
        assertNotEquals(d.hvmParam(HvmParam.CONSOLE_EVTCHN), port);
        assertEquals(RAM, d.ramBytes());
        MemorySegment page = host.map(1, d.hvmParam(HvmParam.STORE_PFN), 1);
        assertEquals(StoreRing.FEATURE_ERROR, page.get(Guest.U32, StoreRing.SERVER_FEATURES));
        assertEquals(0, page.get(Guest.U32, StoreRing.CONNECTION), "XENSTORE_CONNECTED");
        BackendState handle = host.backends().stream().filter(b -> b.name().equals(StoreBackend.HANDLE)).findFirst().orElseThrow();
        assertEquals(port, handle.bindings().get(0).remotePort());
    }

    @Test
    void aBackendWithoutSpecialFramesGetsNoRing() {
        SoftwareBackend b = new SoftwareBackend(9, 1, RAM, host.hypercalls());
        vcpus.add(b);
        VcpuBackend none = new VcpuBackend() { // the same vCPUs, no special frames
            @Override
            public int vcpuCount() {
                return b.vcpuCount();
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
                b.deliverUpcall(vcpu, route);
            }
        };
        DomainHandle d = host.createDomain(9, none, line -> { });
        assertEquals(0, d.hvmParam(HvmParam.STORE_PFN));
        assertEquals(0, d.hvmParam(HvmParam.STORE_EVTCHN));
        assertFalse(backend.domains().contains(9));
    }

    @Test
    void theGuestReadsItsTreeAsTheToolstackWroteIt() throws Exception {
        Guest g = new Guest(domain(1, 2));
        assertEquals("dom1", g.call(XsType.READ, "name").text());
        assertEquals("1", g.call(XsType.READ, "domid").text());
        assertEquals("64", g.call(XsType.READ, "memory/target").text());
        assertEquals("64", g.call(XsType.READ, "memory/static-max").text());
        assertEquals("online", g.call(XsType.READ, "cpu/0/availability").text());
        assertEquals("online", g.call(XsType.READ, "cpu/1/availability").text());
        assertError(XsError.ENOENT, g.call(XsType.READ, "cpu/2/availability"));
        assertEquals("", g.call(XsType.READ, "control/shutdown").text());
        assertEquals(List.of("control", "cpu", "data", "device", "domid", "memory", "name"),
                g.call(XsType.DIRECTORY, "/local/domain/1").strings());
        assertEquals(List.of(), g.call(XsType.DIRECTORY, "device").strings());
        assertEquals(List.of("n1"), g.call(XsType.GET_PERMS, "/local/domain/1").strings());
        assertEquals(List.of("n0", "r1"), g.call(XsType.GET_PERMS, "name").strings());
        assertEquals(List.of("n1"), g.call(XsType.GET_PERMS, "control/shutdown").strings());
    }

    @Test
    void theGuestWritesItsOwnNodesOnlyAndCannotSeeAnothersNodes() throws Exception {
        Guest one = new Guest(domain(1, 1));
        Guest two = new Guest(domain(2, 1));
        assertEquals("OK", one.call(XsType.WRITE, "data/x", "hello").strings().get(0));
        assertEquals("hello", one.call(XsType.READ, "data/x").text());
        assertEquals("OK", one.call(XsType.WRITE, "control/shutdown", "poweroff").strings().get(0));
        assertError(XsError.EACCES, one.call(XsType.WRITE, "name", "evil"));
        assertError(XsError.EACCES, one.call(XsType.WRITE, "memory/target", "1"));
        assertEquals("dom1", one.call(XsType.READ, "name").text());
        assertError(XsError.EACCES, two.call(XsType.READ, "/local/domain/1/name"));
        assertError(XsError.EACCES, two.call(XsType.READ, "/local/domain/1/data/x"));
        assertError(XsError.EACCES, two.call(XsType.DIRECTORY, "/local/domain/1"));
        assertError(XsError.EACCES, two.call(XsType.WRITE, "/local/domain/1/data/y", "x"));
        assertEquals("dom2", two.call(XsType.READ, "name").text());
    }

    @Test
    void aWatchFiresAtOnceAndOnAChange() throws Exception {
        Guest g = new Guest(domain(1, 1));
        assertEquals("OK", g.call(XsType.WATCH, "data", "tok").strings().get(0));
        assertEquals(List.of("data", "tok"), g.event().strings());
        assertEquals("OK", g.call(XsType.WRITE, "data/x", "1").strings().get(0));
        assertEquals(List.of("data/x", "tok"), g.event().strings());
    }

    @Test
    void aWatchHearsAnotherDomainsArrivalAndRelease() throws Exception {
        // dom0's view: the store's own tree, as the host (privileged) sees it
        Guest g = new Guest(domain(1, 1));
        assertEquals("OK", g.call(XsType.WATCH, "@releaseDomain", "rel").strings().get(0));
        assertEquals(List.of("@releaseDomain", "rel"), g.event().strings());
        domain(2, 1);
        assertTrue(host.destroyDomain(2));
        assertEquals(List.of("@releaseDomain", "rel"), g.event().strings());
    }

    @Test
    void aDestroyedDomainsNodesAndPortAreGone() throws Exception {
        Guest g = new Guest(domain(3, 1));
        assertEquals("OK", g.call(XsType.WRITE, "data/x", "1").strings().get(0));
        assertEquals("dom3", new String(backend.store().read(0, 0, "/local/domain/3/name")));
        assertTrue(host.destroyDomain(3));
        waitFor(() -> !backend.domains().contains(3));
        waitFor(() -> {
            try {
                backend.store().read(0, 0, "/local/domain/3");
                return false;
            } catch (StoreException e) {
                return e.error() == XsError.ENOENT;
            }
        });
        assertEquals(0, backend.store().owned(3));
        assertTrue(host.backends().stream().filter(b -> b.name().equals(StoreBackend.HANDLE))
                .allMatch(b -> b.bindings().stream().noneMatch(x -> x.domid() == 3)));
        assertEquals(List.of(), log);
    }

    @Test
    void aFloodingGuestDoesNotStallAnother() throws Exception {
        Guest flood = new Guest(domain(1, 1));
        Guest quiet = new Guest(domain(2, 1));
        // dom1 keeps its request ring full of whole requests and throws the replies away unread, as fast as it can.
        byte[] request = WireMessage.of(XsType.WRITE, 1, 0, "data/x").encode();
        Thread flooder = Thread.ofPlatform().daemon(true).start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                flood.page.set(Guest.U32, StoreRing.RSP_CONS, flood.page.get(Guest.U32, StoreRing.RSP_PROD));
                if (flood.room() >= request.length) {
                    flood.sendWhatFits(request);
                } else {
                    Thread.onSpinWait();
                }
            }
        });
        try {
            for (int i = 0; i < 50; i++) {
                assertEquals("OK", quiet.call(XsType.WRITE, "data/n", Integer.toString(i)).strings().get(0));
                assertEquals(Integer.toString(i), quiet.call(XsType.READ, "data/n").text());
            }
        } finally {
            flooder.interrupt();
            flooder.join();
        }
        assertTrue(backend.store().generation(0, 0, "/local/domain/1/data/x") > 0, "the flood was served too");
        assertEquals(StoreRing.ERROR_NONE, flood.page.get(Guest.U32, StoreRing.ERROR));
    }

    @Test
    void aNewInstanceTakesThePortsOver() throws Exception {
        Guest g = new Guest(domain(1, 1));
        assertEquals("dom1", g.call(XsType.READ, "name").text());
        host.removeListener(backend);
        backend.deactivate();
        assertTrue(host.isParked(StoreBackend.HANDLE));
        backend = backend();
        waitFor(() -> backend.domains().contains(1));
        assertEquals("dom1", g.call(XsType.READ, "name").text());
        assertEquals(List.of(), log);
    }

    @Test
    void theHostsXenStoreIsServedInTurnWithTheGuest() throws Exception {
        Guest g = new Guest(domain(1, 1));
        XenStore xs = backend;
        assertEquals("dom1", xs.readString("/local/domain/1/name"));
        assertEquals(List.of("n0", "r1"), xs.getPermissions("/local/domain/1/name"));
        // the toolstack asks the guest to power off, and the guest's watch hears it
        assertEquals("OK", g.call(XsType.WATCH, "control/shutdown", "sd").strings().get(0));
        assertEquals(List.of("control/shutdown", "sd"), g.event().strings());
        xs.write("/local/domain/1/control/shutdown", "poweroff");
        assertEquals(List.of("control/shutdown", "sd"), g.event().strings());
        assertEquals("poweroff", g.call(XsType.READ, "control/shutdown").text());
        // the host's watch hears the guest's write
        List<String> heard = new CopyOnWriteArrayList<>();
        try (XenStoreWatch w = xs.watch("/local/domain/1/data", "d", (path, token) -> heard.add(path))) {
            assertEquals("OK", g.call(XsType.WRITE, "data/x", "1").strings().get(0));
            waitFor(() -> heard.size() == 2);
            assertEquals(List.of("/local/domain/1/data", "/local/domain/1/data/x"), heard);
        }
        // a transaction of the host conflicts with the guest's write meanwhile
        XenStoreTransaction t = xs.transactionStart();
        assertEquals("1", t.readString("/local/domain/1/data/x"));
        t.write("/local/domain/1/data/y", "y");
        assertEquals("OK", g.call(XsType.WRITE, "data/x", "2").strings().get(0));
        XenStoreException conflict = assertThrows(XenStoreException.class, t::commit);
        assertEquals("EAGAIN", conflict.error());
        assertError(XsError.ENOENT, g.call(XsType.READ, "data/y"));
        xs.mkdir("/local/domain/1/device/vif");
        assertEquals(List.of("vif"), g.call(XsType.DIRECTORY, "device").strings());
        xs.rm("/local/domain/1/device/vif");
        assertEquals(List.of(), g.call(XsType.DIRECTORY, "device").strings());
        assertEquals(List.of(), log);
    }

    @Test
    void aStoppedStoreRefusesTheHostsCalls() {
        backend.deactivate();
        assertThrows(IllegalStateException.class, () -> backend.read("/local"));
        backend = backend();
        assertEquals(List.of(), backend.directory("/"), "a new store, no domains yet");
    }

    private static void assertError(XsError error, WireMessage reply) {
        assertEquals(XsType.ERROR, reply.type(), () -> "a reply of type " + reply.type() + ": " + reply.text());
        assertEquals(List.of(error.name()), reply.strings());
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(2);
        }
    }

    /** Linux's xenbus in a few lines: requests into the ring, a kick on the store port, replies out of it. */
    final class Guest {
        static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        final DomainHandle domain;
        final MemorySegment page;
        final int port;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final List<WireMessage> events = new ArrayList<>();
        private int reqId;

        Guest(DomainHandle domain) {
            this.domain = domain;
            this.page = host.map(domain.domid(), domain.hvmParam(HvmParam.STORE_PFN), 1);
            this.port = (int) domain.hvmParam(HvmParam.STORE_EVTCHN);
        }

        /** A request with {@code args} (the last one raw, as XS_WRITE's value, if there are two and it is WRITE); its reply. */
        WireMessage call(int type, String... args) throws InterruptedException {
            WireMessage request;
            if (type == XsType.WRITE) {
                byte[] path = (args[0] + "\0").getBytes();
                byte[] value = args[1].getBytes();
                byte[] payload = Arrays.copyOf(path, path.length + value.length);
                System.arraycopy(value, 0, payload, path.length, value.length);
                request = new WireMessage(type, ++reqId, 0, payload);
            } else {
                request = WireMessage.of(type, ++reqId, 0, args);
            }
            byte[] bytes = request.encode();
            for (int off = 0; off < bytes.length; ) {
                off += sendWhatFits(Arrays.copyOfRange(bytes, off, bytes.length));
            }
            while (true) {
                WireMessage m = next();
                if (m.type() == XsType.WATCH_EVENT) {
                    events.add(m);
                } else {
                    assertEquals(reqId, m.reqId());
                    return m;
                }
            }
        }

        /** The next watch event. */
        WireMessage event() throws InterruptedException {
            if (!events.isEmpty()) {
                return events.remove(0);
            }
            WireMessage m = next();
            assertEquals(XsType.WATCH_EVENT, m.type(), m::text);
            return m;
        }

        /** Room in the request ring. */
        int room() {
            return StoreRing.RING_SIZE - (page.get(U32, StoreRing.REQ_PROD) - page.get(U32, StoreRing.REQ_CONS));
        }

        /** Writes what fits of {@code bytes} into the request ring and kicks; how many went. */
        int sendWhatFits(byte[] bytes) {
            int prod = page.get(U32, StoreRing.REQ_PROD);
            int room = StoreRing.RING_SIZE - (prod - page.get(U32, StoreRing.REQ_CONS));
            int n = Math.min(room, bytes.length);
            for (int i = 0; i < n; i++) {
                page.set(ValueLayout.JAVA_BYTE, StoreRing.REQ + ((prod + i) & (StoreRing.RING_SIZE - 1)), bytes[i]);
            }
            page.set(U32, StoreRing.REQ_PROD, prod + n);
            domain.eventChannels().send(port);
            return n;
        }

        /** The next whole message from the response ring, waiting for it. */
        private WireMessage next() throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (true) {
                byte[] have = received.toByteArray();
                if (have.length >= WireMessage.HEADER) {
                    int len = ByteBuffer.wrap(have, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                    if (have.length >= WireMessage.HEADER + len) {
                        received.reset();
                        received.write(have, WireMessage.HEADER + len, have.length - WireMessage.HEADER - len);
                        return WireMessage.decode(Arrays.copyOf(have, WireMessage.HEADER + len));
                    }
                }
                int cons = page.get(U32, StoreRing.RSP_CONS);
                int prod = page.get(U32, StoreRing.RSP_PROD);
                for (int i = cons; i != prod; i++) {
                    received.write(page.get(ValueLayout.JAVA_BYTE, StoreRing.RSP + (i & (StoreRing.RING_SIZE - 1))));
                }
                if (cons != prod) {
                    page.set(U32, StoreRing.RSP_CONS, prod);
                    domain.eventChannels().send(port); // room made: the store may have more
                    continue;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new AssertionError("dom" + domain.domid() + ": no reply");
                }
                Thread.sleep(1);
            }
        }
    }
}
