package xen.store.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.backend.ForeignMemory;
import xen.evtchn.api.host.DomainHandle;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * Linux's xenbus in a few lines, for the save and update tests: requests into the ring in guest
 * memory, a kick on the store port, replies and watch events out of it. A guest restored is a new
 * RingGuest on the new domain, carrying on with the request id where the old one was.
 */
final class RingGuest {
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    final DomainHandle domain;
    final MemorySegment page;
    final int port;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final List<WireMessage> events = new ArrayList<>();
    int reqId;

    RingGuest(ForeignMemory memory, DomainHandle domain) {
        this.domain = domain;
        this.page = memory.map(domain.domid(), domain.hvmParam(HvmParam.STORE_PFN), 1);
        this.port = (int) domain.hvmParam(HvmParam.STORE_EVTCHN);
    }

    /** A request's bytes: WRITE's last argument is its raw value. */
    WireMessage request(int type, int tx, String... args) {
        if (type == XsType.WRITE) {
            byte[] path = (args[0] + "\0").getBytes(StandardCharsets.ISO_8859_1);
            byte[] value = args[1].getBytes(StandardCharsets.ISO_8859_1);
            byte[] payload = Arrays.copyOf(path, path.length + value.length);
            System.arraycopy(value, 0, payload, path.length, value.length);
            return new WireMessage(type, ++reqId, tx, payload);
        }
        return WireMessage.of(type, ++reqId, tx, args);
    }

    WireMessage call(int type, String... args) throws InterruptedException {
        return callIn(0, type, args);
    }

    /** A request in transaction {@code tx} and its reply, the events before it kept for {@link #event()}. */
    WireMessage callIn(int tx, int type, String... args) throws InterruptedException {
        send(request(type, tx, args).encode());
        return reply();
    }

    /** Writes {@code bytes} into the request ring, kicking as it goes (they must fit, in pieces). */
    void send(byte[] bytes) {
        for (int off = 0; off < bytes.length;) {
            off += sendWhatFits(Arrays.copyOfRange(bytes, off, bytes.length));
            if (off < bytes.length) {
                Thread.onSpinWait();
            }
        }
    }

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

    /** The reply to the last request, waiting for it. */
    WireMessage reply() throws InterruptedException {
        while (true) {
            WireMessage m = next();
            if (m.type() == XsType.WATCH_EVENT) {
                events.add(m);
            } else {
                assertEquals(reqId, m.reqId(), () -> "a reply to request " + m.reqId() + ": " + m.text());
                return m;
            }
        }
    }

    /** The next watch event, waiting for it. */
    WireMessage event() throws InterruptedException {
        if (!events.isEmpty()) {
            return events.remove(0);
        }
        WireMessage m = next();
        assertEquals(XsType.WATCH_EVENT, m.type(), m::text);
        return m;
    }

    /** Every whole message waiting in the response ring now, without waiting. */
    List<WireMessage> drain() {
        List<WireMessage> all = new ArrayList<>();
        for (WireMessage m = poll(); m != null; m = poll()) {
            all.add(m);
        }
        return all;
    }

    private WireMessage next() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            WireMessage m = poll();
            if (m != null) {
                return m;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no reply from the store");
            }
            Thread.sleep(1);
        }
    }

    private WireMessage poll() {
        int cons = page.get(U32, StoreRing.RSP_CONS);
        int n = page.get(U32, StoreRing.RSP_PROD) - cons;
        for (int i = 0; i < n; i++) {
            received.write(page.get(ValueLayout.JAVA_BYTE, StoreRing.RSP + ((cons + i) & (StoreRing.RING_SIZE - 1))));
        }
        page.set(U32, StoreRing.RSP_CONS, cons + n);
        byte[] have = received.toByteArray();
        if (have.length < WireMessage.HEADER) {
            return null;
        }
        int len = ByteBuffer.wrap(have, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (have.length < WireMessage.HEADER + len) {
            return null;
        }
        received.reset();
        received.write(have, WireMessage.HEADER + len, have.length - WireMessage.HEADER - len);
        return WireMessage.decode(Arrays.copyOf(have, WireMessage.HEADER + len));
    }
}
