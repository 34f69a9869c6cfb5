package xen.store.wire;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.store.tree.Quotas;
import xen.store.tree.Store;

/** The ring page between a guest and its connection: layout, wrap-around, flow control, bad indices. */
class StoreRingTest {
    final Arena arena = Arena.ofConfined();
    final Store store = new Store(Quotas.DEFAULTS);

    StoreRingTest() {
        store.introduceDomain(1);
        store.introduceDomain(2);
    }

    @AfterEach
    void close() {
        arena.close();
    }

    record Setup(Guest guest, StoreRing ring, Connection connection, RingService service) {
    }

    Setup setup(int domid) {
        var page = arena.allocate(4096);
        StoreRing ring = new StoreRing(page);
        Connection connection = new Connection(store, domid);
        return new Setup(new Guest(page), ring, connection, new RingService(ring, connection));
    }

    /** Sends a whole request and gathers whole replies, pumping as a backend would on each kick. */
    static WireMessage roundTrip(Setup s, WireMessage request) {
        byte[] bytes = request.encode();
        int sent = 0;
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int kicks = 0; kicks < 100; kicks++) {
            sent += s.guest.send(bytes, sent);
            s.service.pump();
            got.writeBytes(s.guest.receive());
            byte[] all = got.toByteArray();
            if (all.length >= WireMessage.HEADER) {
                int len = ByteBuffer.wrap(all, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                if (all.length == WireMessage.HEADER + len) {
                    return WireMessage.decode(all);
                }
            }
        }
        throw new AssertionError("no whole reply after 100 kicks");
    }

    @Test
    void layoutIsXsWireH() {
        assertEquals(0x800, StoreRing.REQ_CONS);
        assertEquals(0x80C, StoreRing.RSP_PROD);
        assertEquals(0x818, StoreRing.ERROR);
        assertThrows(IllegalArgumentException.class, () -> new StoreRing(arena.allocate(StoreRing.SIZE - 1)));
        Setup s = setup(1);
        s.ring.advertiseFeatures();
        assertEquals(StoreRing.FEATURE_ERROR, s.guest.get(StoreRing.SERVER_FEATURES));
    }

    @Test
    void aReplyLargerThanTheRingArrivesWholeAcrossIndexWrapAround() {
        Setup s = setup(1);
        for (int off : new int[] {StoreRing.REQ_CONS, StoreRing.REQ_PROD, StoreRing.RSP_CONS, StoreRing.RSP_PROD}) {
            s.guest.set(off, -100); // free-running indices about to wrap
        }
        byte[] value = new byte[2000];
        java.util.Arrays.fill(value, (byte) 'v');
        byte[] payload = new byte[5 + value.length];
        System.arraycopy("data\0".getBytes(ISO_8859_1), 0, payload, 0, 5);
        System.arraycopy(value, 0, payload, 5, value.length);
        assertEquals("OK\0", roundTrip(s, new WireMessage(XsType.WRITE, 1, 0, payload)).text());
        WireMessage read = roundTrip(s, WireMessage.of(XsType.READ, 2, 0, "data"));
        assertEquals(2, read.reqId());
        assertArrayEquals(value, read.payload());
        assertTrue(Integer.compareUnsigned(s.guest.get(StoreRing.REQ_PROD), 5000) < 0, "the indices wrapped");
        assertEquals(StoreRing.ERROR_NONE, s.ring.error());
    }

    @Test
    void requestIndicesClaimingMoreThanTheRingAreRefused() {
        Setup s = setup(1);
        Setup other = setup(2);
        s.guest.set(StoreRing.REQ_PROD, StoreRing.RING_SIZE + 1);
        assertFalse(s.service.pump());
        assertEquals(StoreRing.ERROR_RINGIDX, s.ring.error());
        assertTrue(s.connection.broken());
        assertEquals("/local/domain/2\0", roundTrip(other, WireMessage.of(XsType.GET_DOMAIN_PATH, 1, 0, "2")).text());
    }

    @Test
    void responseIndicesClaimingMoreThanTheRingAreRefused() {
        Setup s = setup(1);
        s.guest.send(WireMessage.of(XsType.GET_DOMAIN_PATH, 1, 0, "1").encode(), 0);
        s.guest.set(StoreRing.RSP_CONS, 5000);
        s.service.pump();
        assertEquals(StoreRing.ERROR_RINGIDX, s.ring.error());
        assertTrue(s.connection.broken());
        assertEquals(0, s.guest.get(StoreRing.RSP_PROD), "nothing written past the guest's bad index");
    }

    @Test
    void anOversizedMessageIsAProtocolError() {
        Setup s = setup(1);
        ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(XsType.WRITE).putInt(1).putInt(0).putInt(WireMessage.PAYLOAD_MAX + 1);
        s.guest.send(header.array(), 0);
        s.service.pump();
        assertEquals(StoreRing.ERROR_PROTO, s.ring.error());
        assertTrue(s.connection.broken());
        assertEquals(0, s.guest.receive().length);
    }

    @Test
    void aGuestThatDoesNotReadRepliesIsNotReadEither() {
        Setup s = setup(1);
        byte[] request = WireMessage.of(XsType.GET_DOMAIN_PATH, 1, 0, "1").encode();
        for (int i = 0; i < 200; i++) {
            s.guest.send(request, 0);
            s.service.pump();
        }
        int rspUsed = s.guest.get(StoreRing.RSP_PROD) - s.guest.get(StoreRing.RSP_CONS);
        assertEquals(StoreRing.RING_SIZE, rspUsed, "the response ring filled, partial messages too");
        assertTrue(s.connection.bufferedBytes() <= 2 * (WireMessage.HEADER + WireMessage.PAYLOAD_MAX));
        assertTrue(s.guest.get(StoreRing.REQ_PROD) - s.guest.get(StoreRing.REQ_CONS) > 0, "requests wait in the ring");
    }
}
