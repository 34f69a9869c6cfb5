package itests;

import static org.junit.Assert.assertEquals;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import xen.evtchn.api.abi.HvmParam;

/**
 * The guest's side of a probe domain's xenstore ring, as Linux's xenbus uses it: a request into
 * the request ring, a kick on the store port, the reply read from the response ring. The layout is
 * xs_wire.h's struct xenstore_domain_interface (xen.store keeps it in its private StoreRing; the
 * bundle exports nothing, so the test, a guest, names the offsets itself as a guest does).
 */
final class StoreClient {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int RING = 1024, REQ = 0, RSP = 0x400, REQ_CONS = 0x800, REQ_PROD = 0x804, RSP_CONS = 0x808,
            RSP_PROD = 0x80C;
    private static final int XS_READ = 2, XS_WRITE = 11, HEADER = 16;
    private final ProbeDomain probe;
    private final MemorySegment page;
    private final int port;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private int reqId;

    StoreClient(ProbeDomain probe) {
        this.probe = probe;
        this.page = probe.vcpus.memory().page(probe.domain.hvmParam(HvmParam.STORE_PFN));
        this.port = (int) probe.domain.hvmParam(HvmParam.STORE_EVTCHN);
    }

    /** XS_WRITE; the reply's payload ("OK\0", or an error's name). */
    String write(String path, String value) {
        return call(XS_WRITE, (path + "\0" + value).getBytes(StandardCharsets.US_ASCII));
    }

    /** XS_READ; the value, or an error's name. */
    String read(String path) {
        return call(XS_READ, (path + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    /** Bytes in the response ring that no request asked for (a reply twice would be some). */
    int unasked() {
        return page.get(U32, RSP_PROD) - page.get(U32, RSP_CONS) + received.size();
    }

    private String call(int type, byte[] payload) {
        ByteBuffer m = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        m.putInt(type).putInt(++reqId).putInt(0).putInt(payload.length).put(payload);
        byte[] bytes = m.array();
        for (int off = 0; off < bytes.length;) {
            int prod = page.get(U32, REQ_PROD);
            int n = Math.min(RING - (prod - page.get(U32, REQ_CONS)), bytes.length - off);
            for (int i = 0; i < n; i++) {
                page.set(ValueLayout.JAVA_BYTE, REQ + ((prod + i) & (RING - 1)), bytes[off + i]);
            }
            page.set(U32, REQ_PROD, prod + n);
            off += n;
            probe.events.send(port);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Host.WAIT_MS);
        while (true) {
            int cons = page.get(U32, RSP_CONS);
            int avail = page.get(U32, RSP_PROD) - cons;
            for (int i = 0; i < avail; i++) {
                received.write(page.get(ValueLayout.JAVA_BYTE, RSP + ((cons + i) & (RING - 1))));
            }
            page.set(U32, RSP_CONS, cons + avail);
            byte[] have = received.toByteArray();
            if (have.length >= HEADER) {
                ByteBuffer h = ByteBuffer.wrap(have).order(ByteOrder.LITTLE_ENDIAN);
                int len = h.getInt(12);
                if (have.length >= HEADER + len) {
                    assertEquals("the reply to request " + reqId, reqId, h.getInt(4));
                    received.reset();
                    received.write(have, HEADER + len, have.length - HEADER - len);
                    return new String(Arrays.copyOfRange(have, HEADER, HEADER + len), StandardCharsets.US_ASCII);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no reply to request " + reqId + " within " + Host.WAIT_MS + " ms");
            }
            LockSupport.parkNanos(20_000); // not a spin: the machine has two cores, and the host needs them
        }
    }
}
