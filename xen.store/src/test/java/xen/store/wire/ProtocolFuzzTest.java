package xen.store.wire;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import xen.store.tree.Quotas;
import xen.store.tree.Store;

/**
 * A fuzzer of the protocol: random bytes, and valid requests mutated (a byte flipped, the length
 * changed, cut short, padded), sent by domain 1 through its connection and through its ring. Every
 * message out is well formed (the helpers parse it whole) and is a reply of the request's type or
 * XS_ERROR, never EIO (a fault of ours); the connection either answers or is broken; its buffers
 * stay within one message and its event queue; the store stays within domain 1's quotas; and
 * domain 2 is unharmed: its secret is unread and unchanged and it is still served.
 */
class ProtocolFuzzTest {
    static final Quotas QUOTAS = new Quotas(50, 2048, 8, 3, 256, 5, 64);
    static final long BUFFER_BOUND = (1L + QUOTAS.eventQueue()) * (WireMessage.HEADER + WireMessage.PAYLOAD_MAX)
            + WireMessage.HEADER + WireMessage.PAYLOAD_MAX;

    static final List<WireMessage> SEEDS = List.of(
            WireMessage.of(XsType.READ, 1, 0, "data"),
            WireMessage.of(XsType.READ, 1, 0, "/local/domain/2/secret"),
            new WireMessage(XsType.WRITE, 2, 0, "data/x\0value".getBytes(ISO_8859_1)),
            new WireMessage(XsType.WRITE, 2, 0, "/local/domain/2/secret\0stolen".getBytes(ISO_8859_1)),
            WireMessage.of(XsType.MKDIR, 3, 0, "data/d/e"),
            WireMessage.of(XsType.RM, 4, 0, "data"),
            WireMessage.of(XsType.DIRECTORY, 5, 0, "/local/domain/2"),
            WireMessage.of(XsType.DIRECTORY_PART, 5, 0, "data", "0"),
            WireMessage.of(XsType.GET_PERMS, 6, 0, "data"),
            WireMessage.of(XsType.SET_PERMS, 7, 0, "data", "b1", "r2"),
            WireMessage.of(XsType.SET_PERMS, 7, 0, "/local/domain/2/secret", "b1"),
            WireMessage.of(XsType.WATCH, 8, 0, "/", "t"),
            WireMessage.of(XsType.WATCH, 8, 0, "data", "t"),
            WireMessage.of(XsType.UNWATCH, 9, 0, "data", "t"),
            WireMessage.of(XsType.TRANSACTION_START, 10, 0, ""),
            WireMessage.of(XsType.TRANSACTION_END, 11, 1, "T"),
            WireMessage.of(XsType.GET_DOMAIN_PATH, 12, 0, "2"),
            WireMessage.of(XsType.RESET_WATCHES, 13, 0, ""),
            WireMessage.of(XsType.INTRODUCE, 14, 0, "3", "1", "1"));

    /** A mutation of a seed's bytes. */
    record Mutation(int seed, int kind, int position, int value) {
        byte[] apply() {
            byte[] b = SEEDS.get(seed).encode();
            int at = Math.floorMod(position, b.length);
            return switch (kind) {
                case 0 -> b;
                case 1 -> { // a byte flipped
                    b[at] ^= (byte) (value | 1);
                    yield b;
                }
                case 2 -> { // the length field changed
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(12, value);
                    yield b;
                }
                case 3 -> Arrays.copyOf(b, at); // cut short
                case 4 -> Arrays.copyOf(b, b.length + Math.floorMod(value, 64)); // padded with NULs
                case 5 -> { // the transaction id changed
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, value);
                    yield b;
                }
                default -> { // the type changed
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(0, value);
                    yield b;
                }
            };
        }
    }

    @Provide
    Arbitrary<List<byte[]>> mutated() {
        Arbitrary<Integer> value = Arbitraries.oneOf(Arbitraries.integers().between(-2, 30),
                Arbitraries.integers().between(4090, 4100), Arbitraries.integers());
        Arbitrary<byte[]> one = Combinators.combine(Arbitraries.integers().between(0, SEEDS.size() - 1),
                Arbitraries.integers().between(0, 6), Arbitraries.integers(), value).as(Mutation::new).map(Mutation::apply);
        return one.list().ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<byte[]>> random() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300).list().ofMaxSize(10);
    }

    static Store store() {
        Store store = new Store(QUOTAS);
        store.introduceDomain(1);
        store.introduceDomain(2);
        store.write(2, 0, "secret", "s3cret".getBytes(ISO_8859_1));
        return store;
    }

    static void checkOutput(List<WireMessage> out) {
        for (WireMessage m : out) {
            assertTrue(m.type() == XsType.ERROR || m.type() == XsType.WATCH_EVENT || m.type() < 23, "type " + m.type());
            assertNotEquals("EIO\0", m.text(), "a fault of the store");
            assertTrue(m.payload().length <= WireMessage.PAYLOAD_MAX);
        }
    }

    static void checkUnharmed(Store store, Connection c) {
        assertTrue(store.owned(1) <= QUOTAS.nodes());
        assertTrue(c.bufferedBytes() <= BUFFER_BOUND, c.bufferedBytes() + " bytes buffered");
        assertEquals("s3cret", new String(store.read(2, 0, "secret"), ISO_8859_1));
        assertEquals("n2\0", store.getPerms(2, 0, "secret").toWire());
        Connection other = new Connection(store, 2);
        assertEquals("s3cret", Wire.call(other, WireMessage.of(XsType.READ, 1, 0, "secret")).text());
    }

    @Property(tries = 400)
    void mutatedRequestsGetRepliesOrBreakTheirConnectionOnly(@ForAll("mutated") List<byte[]> messages) {
        fuzz(messages);
    }

    @Property(tries = 200)
    void randomBytesGetRepliesOrBreakTheirConnectionOnly(@ForAll("random") List<byte[]> messages) {
        fuzz(messages);
    }

    private static void fuzz(List<byte[]> messages) {
        Store store = store();
        Connection c = new Connection(store, 1);
        for (byte[] m : messages) {
            List<WireMessage> out = new ArrayList<>();
            Wire.feed(c, m, out);
            out.addAll(Wire.drain(c));
            checkOutput(out);
            for (WireMessage reply : out) {
                assertNotEquals("s3cret", reply.text(), "domain 2's secret leaked");
            }
        }
        checkUnharmed(store, c);
        c.close();
        assertEquals(0, store.watchCount());
        assertEquals(0, store.transactionCount());
    }

    @Property(tries = 200)
    void ringsWithAnyIndicesAndBytesNeverHarmTheHost(@ForAll("mutated") List<byte[]> messages,
            @ForAll int reqCons, @ForAll int reqProdDelta, @ForAll int rspCons, @ForAll int rspProdDelta) {
        Store store = store();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096);
            Guest guest = new Guest(page);
            guest.set(StoreRing.REQ_CONS, reqCons);
            guest.set(StoreRing.REQ_PROD, reqCons + Math.floorMod(reqProdDelta, 2 * StoreRing.RING_SIZE));
            guest.set(StoreRing.RSP_CONS, rspCons);
            guest.set(StoreRing.RSP_PROD, rspCons + Math.floorMod(rspProdDelta, 2 * StoreRing.RING_SIZE));
            Connection c = new Connection(store, 1);
            RingService service = new RingService(new StoreRing(page), c);
            for (byte[] m : messages) {
                int sent = 0;
                for (int kicks = 0; kicks < 20 && sent < m.length; kicks++) {
                    if (Integer.compareUnsigned(guest.get(StoreRing.REQ_PROD) - guest.get(StoreRing.REQ_CONS),
                            StoreRing.RING_SIZE) <= 0) {
                        sent += guest.send(m, sent);
                    }
                    service.pump();
                    if (Integer.compareUnsigned(guest.get(StoreRing.RSP_PROD) - guest.get(StoreRing.RSP_CONS),
                            StoreRing.RING_SIZE) <= 0) {
                        guest.receive();
                    }
                }
            }
            service.pump();
            int rspUsed = guest.get(StoreRing.RSP_PROD) - guest.get(StoreRing.RSP_CONS);
            if (Integer.compareUnsigned(rspUsed, StoreRing.RING_SIZE) > 0) {
                // Only the guest's own bad indices can claim more than the ring: the store wrote nothing there.
                assertEquals(rspCons + Math.floorMod(rspProdDelta, 2 * StoreRing.RING_SIZE), guest.get(StoreRing.RSP_PROD));
            }
            assertTrue(c.broken() == (page.get(Guest.U32, StoreRing.ERROR) != StoreRing.ERROR_NONE));
            checkUnharmed(store, c);
        }
    }
}
