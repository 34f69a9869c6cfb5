package xen.bus.testing;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import xen.evtchn.api.EventChannels;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * A guest's XenStore client over its ring in guest memory, as Linux's xenbus (xb_write, xb_read)
 * uses it: each request goes into the request ring, the store port is raised, the reply is read
 * from the response ring. Every request is the guest's, with its permissions; watch events are
 * not asked for (the fixture polls). Relative paths are the guest's home's.
 */
public final class GuestStore {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Duration REPLY_WAIT = Duration.ofSeconds(20);

    private final MemorySegment page;
    private final int port;
    private final EventChannels events;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private int reqId;

    GuestStore(MemorySegment page, int port, EventChannels events) {
        this.page = page;
        this.port = port;
        this.events = events;
    }

    /** A request refused by the store, with xenstored's error name. */
    public static final class StoreError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final String error;

        StoreError(String error, String request) {
            super(request + ": " + error);
            this.error = error;
        }

        /** "ENOENT", "EACCES", ... */
        public String error() {
            return error;
        }
    }

    /** XS_READ: the value, or null for ENOENT. @throws StoreError for any other refusal */
    public synchronized String read(String path) {
        WireMessage reply = call(WireMessage.of(XsType.READ, ++reqId, 0, path), "read " + path, true);
        return reply == null ? null : new String(reply.payload(), StandardCharsets.UTF_8);
    }

    /** XS_WRITE. @throws StoreError if refused (EACCES for a node the guest may not write) */
    public synchronized void write(String path, String value) {
        byte[] p = (path + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        byte[] payload = Arrays.copyOf(p, p.length + v.length);
        System.arraycopy(v, 0, payload, p.length, v.length);
        call(new WireMessage(XsType.WRITE, ++reqId, 0, payload), "write " + path, false);
    }

    /** XS_RM. @throws StoreError if refused */
    public synchronized void rm(String path) {
        call(WireMessage.of(XsType.RM, ++reqId, 0, path), "rm " + path, false);
    }

    /** XS_DIRECTORY: the children's names, or null for ENOENT. */
    public synchronized List<String> directory(String path) {
        WireMessage reply = call(WireMessage.of(XsType.DIRECTORY, ++reqId, 0, path), "directory " + path, true);
        return reply == null ? null : reply.strings();
    }

    /** XS_GET_PERMS: as xenstore-ls -p shows them ({@code n1}, {@code r0}). */
    public synchronized List<String> permissions(String path) {
        return call(WireMessage.of(XsType.GET_PERMS, ++reqId, 0, path), "get_perms " + path, false).strings();
    }

    private WireMessage call(WireMessage request, String what, boolean enoentIsNull) {
        byte[] bytes = request.encode();
        for (int off = 0; off < bytes.length; ) {
            off += send(bytes, off);
        }
        while (true) {
            WireMessage m = next(what);
            if (m.type() == XsType.WATCH_EVENT) {
                continue;
            }
            if (m.reqId() != request.reqId()) {
                throw new AssertionError(what + ": a reply to request " + m.reqId() + ", not " + request.reqId());
            }
            if (m.type() == XsType.ERROR) {
                String error = m.strings().get(0);
                if (enoentIsNull && error.equals("ENOENT")) {
                    return null;
                }
                throw new StoreError(error, what);
            }
            return m;
        }
    }

    private int send(byte[] bytes, int off) {
        int prod = page.get(U32, StoreRing.REQ_PROD);
        int room = StoreRing.RING_SIZE - (prod - page.get(U32, StoreRing.REQ_CONS));
        int n = Math.min(room, bytes.length - off);
        for (int i = 0; i < n; i++) {
            page.set(ValueLayout.JAVA_BYTE, StoreRing.REQ + ((prod + i) & (StoreRing.RING_SIZE - 1)), bytes[off + i]);
        }
        page.set(U32, StoreRing.REQ_PROD, prod + n);
        events.send(port);
        if (n == 0) {
            Thread.onSpinWait();
        }
        return n;
    }

    private WireMessage next(String what) {
        long deadline = System.nanoTime() + REPLY_WAIT.toNanos();
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
                events.send(port); // room made: the store may have more
                continue;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": no reply from XenStore");
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(what + ": interrupted");
            }
        }
    }
}
