package xen.store.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.store.backend.StoreBackendTest.waitFor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32C;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.impl.host.HostComponent;
import xen.store.save.StoreImage;
import xen.store.save.StoreImages;
import xen.store.tree.Quotas;
import xen.store.tree.Store;
import xen.store.tree.XsError;
import xen.store.wire.Connection;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * A domain's XenStore state in its save stream: written by the guest and by dom0, watched, in a
 * transaction and with a request half sent, saved on one host and restored on another under
 * another domid, or on the same host; a stream without the store's record gives the initial tree;
 * a corrupted or truncated record is refused with nothing left.
 */
class StoreSaveRestoreTest {
    private static final long RAM = 64 << 10;
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<Host> hosts = new ArrayList<>();

    /** A host with its store, which is a part of every save unless {@code part} is false. */
    private final class Host {
        final HostComponent host = new HostComponent(timers);
        final StoreBackend store = new StoreBackend(host, host, host, log::add);
        final List<SoftwareBackend> vcpus = new ArrayList<>();

        Host(boolean part) {
            host.addListener(store);
            if (part) {
                host.addPart(store);
            }
            hosts.add(this);
        }

        SoftwareBackend vcpus(int domid) {
            SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
            vcpus.add(b);
            return b;
        }

        DomainHandle create(int domid) throws InterruptedException {
            DomainHandle d = host.createDomain(domid, vcpus(domid), line -> { });
            waitFor(() -> store.domains().contains(domid));
            return d;
        }

        /** Restores {@code stream} as {@code domid} on vCPUs whose memory is {@code from}'s copied (what the VMM moves). */
        DomainHandle restore(int domid, byte[] stream, SoftwareBackend from) throws InterruptedException {
            SoftwareBackend b = vcpus(domid);
            b.memory().ram().copyFrom(from.memory().ram());
            DomainHandle d = host.restoreDomain(domid, stream, b, line -> { });
            waitFor(() -> store.domains().contains(domid));
            return d;
        }
    }

    @AfterEach
    void tearDown() {
        for (Host h : hosts) {
            for (DomainHandle d : h.host.domains()) {
                h.host.destroyDomain(d.domid());
            }
            h.store.deactivate();
            h.vcpus.forEach(SoftwareBackend::close);
        }
        timers.close();
    }

    private static String ok(WireMessage reply) {
        assertEquals(List.of("OK"), reply.strings(), reply::text);
        return "OK";
    }

    private static void assertError(XsError error, WireMessage reply) {
        assertEquals(XsType.ERROR, reply.type(), reply::text);
        assertEquals(List.of(error.name()), reply.strings());
    }

    /** Domain 3 on {@code a}: the guest's and dom0's nodes, two watches, a transaction; its guest. */
    private RingGuest populated(Host a) throws InterruptedException {
        DomainHandle d = a.create(3);
        RingGuest g = new RingGuest(a.host, d);
        ok(g.call(XsType.WRITE, "data/x", "hello"));
        ok(g.call(XsType.SET_PERMS, "data/x", "n3", "r7"));
        a.store.mkdir("/local/domain/0/backend/vbd/3");
        a.store.setPermissions("/local/domain/0/backend/vbd/3", List.of("n0", "r3"));
        a.store.write("/local/domain/0/backend/vbd/3/51712/state", "4");
        a.store.write("/local/domain/0/backend/vbd/4/1/state", "another domain's");
        a.store.write("/local/domain/3/device/vbd/51712/backend", "/local/domain/0/backend/vbd/3/51712");
        ok(g.call(XsType.WATCH, "data", "t1"));
        assertEquals(List.of("data", "t1"), g.event().strings());
        ok(g.call(XsType.WATCH, "/local/domain/0/backend/vbd/3", "t2"));
        assertEquals(List.of("/local/domain/0/backend/vbd/3", "t2"), g.event().strings());
        return g;
    }

    @Test
    void theTreeWatchesAndRingComeBackOnAnotherHostUnderAnotherDomid() throws Exception {
        Host a = new Host(true);
        RingGuest g = populated(a);
        int tx = Integer.parseInt(g.call(XsType.TRANSACTION_START, "").strings().get(0));
        ok(g.callIn(tx, XsType.WRITE, "data/t", "in the transaction"));
        int owned = a.store.store().owned(3);
        // Half a request, taken by the store before the save: it is in the connection, not the ring.
        byte[] read = g.request(XsType.READ, 0, "data/x").encode();
        g.send(Arrays.copyOf(read, 10));
        waitFor(() -> g.page.get(RingGuest.U32, StoreRing.REQ_CONS) == g.page.get(RingGuest.U32, StoreRing.REQ_PROD));
        byte[] stream = g.domain.save();
        int rspProd = g.page.get(RingGuest.U32, StoreRing.RSP_PROD);
        // After the save, a whole request in the old ring: the old host no longer serves it, the new one will.
        g.send(Arrays.copyOfRange(read, 10, read.length));
        Thread.sleep(50);
        assertEquals(rspProd, g.page.get(RingGuest.U32, StoreRing.RSP_PROD), "a saved domain's ring is not served");

        Host b = new Host(true);
        RingGuest g5 = new RingGuest(b.host, b.restore(5, stream, a.vcpus.get(0)));
        a.host.destroyDomain(3);
        g5.reqId = g.reqId;
        assertEquals("hello", new String(g5.reply().payload()), "the half-sent request, answered once, by the new host");
        // each watch fires once, as re-registered, its path moved with the domain
        List<List<String>> fired = List.of(g5.event().strings(), g5.event().strings());
        assertEquals(List.of(List.of("data", "t1"), List.of("/local/domain/0/backend/vbd/5", "t2")), fired);
        assertEquals("hello", g5.call(XsType.READ, "data/x").text());
        assertEquals(List.of("n5", "r7"), g5.call(XsType.GET_PERMS, "data/x").strings());
        assertEquals("4", g5.call(XsType.READ, "/local/domain/0/backend/vbd/5/51712/state").text());
        assertEquals(List.of("n0", "r5"), b.store.getPermissions("/local/domain/0/backend/vbd/5/51712/state"));
        assertEquals("5", g5.call(XsType.READ, "domid").text(), "the toolstack's domid node names the new domain");
        assertEquals("/local/domain/0/backend/vbd/3/51712", g5.call(XsType.READ, "device/vbd/51712/backend").text(),
                "other values are kept as they were");
        assertEquals(List.of("n0", "r5"), g5.call(XsType.GET_PERMS, "name").strings());
        assertEquals("ENOENT", assertThrows(XenStoreException.class, () -> b.store.read("/local/domain/0/backend/vbd/4")).error(),
                "another domain's backend directory stayed behind");
        assertEquals(owned, b.store.store().owned(5), "its quota usage");
        // the transaction it had open: its commit is EAGAIN, as after xenstored's restart
        assertError(XsError.ENOENT, g5.callIn(tx, XsType.READ, "data/t"));
        assertError(XsError.EAGAIN, g5.callIn(tx, XsType.TRANSACTION_END, "T"));
        assertError(XsError.ENOENT, g5.callIn(tx, XsType.TRANSACTION_END, "T"));
        // the watches work on
        ok(g5.call(XsType.WRITE, "data/y", "1"));
        assertEquals(List.of("data/y", "t1"), g5.event().strings());
        b.store.write("/local/domain/0/backend/vbd/5/51712/state", "6");
        assertEquals(List.of("/local/domain/0/backend/vbd/5/51712/state", "t2"), g5.event().strings());
        assertEquals(List.of(), g5.drain(), "nothing answered twice");
        assertEquals(List.of(), log);
    }

    @Test
    void aDomainRestoredOnTheSameHostUnderItsDomidGetsItsTreeNotANewOne() throws Exception {
        Host a = new Host(true);
        RingGuest g = populated(a);
        ok(g.call(XsType.WRITE, "control/shutdown", "poweroff"));
        byte[] stream = g.domain.save();
        SoftwareBackend old = a.vcpus.get(0);
        SoftwareBackend copy = new SoftwareBackend(3, 1, RAM, a.host.hypercalls());
        a.vcpus.add(copy);
        copy.memory().ram().copyFrom(old.memory().ram());
        a.host.destroyDomain(3);
        waitFor(() -> !a.store.domains().contains(3));
        DomainHandle d = a.host.restoreDomain(3, stream, copy, line -> { });
        waitFor(() -> a.store.domains().contains(3));
        RingGuest g3 = new RingGuest(a.host, d);
        g3.reqId = g.reqId;
        assertEquals(List.of("data", "t1"), g3.event().strings());
        assertEquals("poweroff", g3.call(XsType.READ, "control/shutdown").text(), "not the initial tree's empty value");
        assertEquals("hello", g3.call(XsType.READ, "data/x").text());
        assertEquals("another domain's", a.store.readString("/local/domain/0/backend/vbd/4/1/state"));
        assertEquals(List.of(), log);
    }

    @Test
    void aStreamWithoutTheStoresRecordGivesTheInitialTree() throws Exception {
        Host a = new Host(false); // a host whose store is no part of its saves, as one from before
        RingGuest g = populated(a);
        byte[] stream = g.domain.save();
        Host b = new Host(true);
        RingGuest g5 = new RingGuest(b.host, b.restore(5, stream, a.vcpus.get(0)));
        assertEquals("dom5", g5.call(XsType.READ, "name").text());
        assertError(XsError.ENOENT, g5.call(XsType.READ, "data/x"));
        assertError(XsError.ENOENT, g5.call(XsType.UNWATCH, "data", "t1"));
    }

    @Test
    void aHostWithoutAStoreRefusesAStreamWithTheStoresRecord() throws Exception {
        Host a = new Host(true);
        byte[] stream = populated(a).domain.save();
        HostComponent bare = new HostComponent(timers);
        try (SoftwareBackend b = new SoftwareBackend(5, 1, RAM, bare.hypercalls())) {
            String message = assertThrows(SaveStreamException.class, () -> bare.restoreDomain(5, stream, b, line -> { }))
                    .getMessage();
            assertTrue(message.contains("\"xen.store\""), message);
            assertNull(bare.domain(5));
        }
    }

    // ---- refusals ----

    /** The record of type PART in {@code stream}: its start. */
    private static int partRecord(byte[] stream) {
        for (int at = 16;;) {
            int type = (stream[at] & 0xFF) | (stream[at + 1] & 0xFF) << 8;
            int length = ByteBuffer.wrap(stream, at + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (type == 10) {
                return at;
            }
            assertTrue(type != 0, "no PART record");
            at += 8 + length;
        }
    }

    /** {@code stream} with the PART record's body {@code cut} bytes shorter at its end, lengths and checksum made right. */
    private static byte[] cutPart(byte[] stream, int cut) {
        int at = partRecord(stream);
        ByteBuffer b = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
        int length = b.getInt(at + 4);
        byte[] s = new byte[stream.length - cut];
        System.arraycopy(stream, 0, s, 0, at + 8 + length - cut);
        System.arraycopy(stream, at + 8 + length, s, at + 8 + length - cut, stream.length - (at + 8 + length));
        ByteBuffer t = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        t.putInt(at + 4, length - cut);
        t.putInt(12, s.length - 16 - 4);
        return resealed(s);
    }

    private static byte[] resealed(byte[] s) {
        CRC32C crc = new CRC32C();
        crc.update(s, 0, s.length - 4);
        ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length - 4, (int) crc.getValue());
        return s;
    }

    @Test
    void aTruncatedOrCorruptedStoreRecordIsRefusedWithNothingLeft() throws Exception {
        Host a = new Host(true);
        RingGuest g = populated(a);
        byte[] stream = g.domain.save();
        Host b = new Host(true);
        int at = partRecord(stream);
        int nameEnd = at + 8 + 1 + "xen.store".length();
        byte[] badPath = stream.clone();
        badPath[nameEnd + 3] = '!'; // in the first node's path, /local/...
        for (byte[] bad : List.of(cutPart(stream, 1), cutPart(stream, 40), resealed(badPath))) {
            SoftwareBackend vcpus = b.vcpus(5);
            vcpus.memory().ram().copyFrom(a.vcpus.get(0).memory().ram());
            String message = assertThrows(SaveStreamException.class, () -> b.host.restoreDomain(5, bad, vcpus, line -> { }))
                    .getMessage();
            assertTrue(message.startsWith("save stream, xen.store part, byte "), message);
            assertNull(b.host.domain(5));
            assertFalse(b.store.domains().contains(5));
            assertEquals("ENOENT", assertThrows(XenStoreException.class, () -> b.store.read("/local/domain/5")).error(),
                    "no node of it");
            assertEquals("ENOENT", assertThrows(XenStoreException.class, () -> b.store.read("/local/domain/0/backend/vbd/5")).error());
            assertTrue(b.host.backends().stream().allMatch(s -> s.bindings().isEmpty()), "no port of it");
        }
        // and the stream itself still restores there
        RingGuest g5 = new RingGuest(b.host, b.restore(5, stream, a.vcpus.get(0)));
        g5.reqId = g.reqId;
        assertEquals("hello", g5.call(XsType.READ, "data/x").text());
    }

    @Test
    void everyFlippedOrMissingByteOfTheStoresPartIsRefusedOrRestoresWhole() throws Exception {
        Host a = new Host(true);
        RingGuest g = populated(a);
        ok(g.call(XsType.WRITE, "data/y", "a value"));
        byte[] part = a.store.save(3);
        int refused = 0;
        for (int i = 0; i < part.length; i++) {
            for (byte[] changed : List.of(flipped(part, i, 0x01), flipped(part, i, 0x80), Arrays.copyOf(part, i))) {
                StoreImage image;
                try {
                    image = StoreImages.read(changed, 3, 9, Quotas.DEFAULTS);
                } catch (SaveStreamException e) {
                    assertTrue(e.getMessage().startsWith("save stream, xen.store part, byte "), e.getMessage());
                    assertThrows(SaveStreamException.class, () -> a.store.prepare(9, 3, changed));
                    refused++;
                    continue;
                }
                applyTo(new Store(Quotas.DEFAULTS), 9, image); // accepted: it applies whole, without a fault
            }
        }
        assertTrue(refused > part.length, "most changes are refused: " + refused);
        assertEquals(List.of(), log);
    }

    /** What the store's thread does with a restored domain's image, on a tree of its own; the connection's output drained. */
    private static void applyTo(Store store, int domid, StoreImage image) {
        image.nodes().forEach(store::restoreNode);
        store.restoreDoomedTransactions(domid, image.transactions());
        Connection c = image.connection() == null ? new Connection(store, domid) : new Connection(store, domid, image.connection());
        for (Store.WatchState w : image.watches()) {
            store.watch(c, w.path(), w.token());
        }
        byte[] buffer = new byte[4096];
        while (c.produce(buffer, 0, buffer.length) > 0) {
            assertTrue(c.bufferedBytes() < 1 << 24);
        }
        c.accept(new byte[WireMessage.HEADER], 0, WireMessage.HEADER - 1);
    }

    private static byte[] flipped(byte[] b, int at, int bit) {
        byte[] c = b.clone();
        c[at] ^= (byte) bit;
        return c;
    }
}
