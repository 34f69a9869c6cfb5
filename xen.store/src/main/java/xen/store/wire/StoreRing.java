package xen.store.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The server's side of {@code struct xenstore_domain_interface} (xs_wire.h), the page a guest and
 * the store share: a 1024-byte request ring at 0x000, a 1024-byte response ring at 0x400, free
 * running u32 indices req_cons/req_prod at 0x800/0x804 and rsp_cons/rsp_prod at 0x808/0x80C
 * (MASK_XENSTORE_IDX takes them into the ring), server_features, connection and error after them.
 * The guest owns req_prod and rsp_cons and may write anything there: indices that claim more than
 * a ring's size are refused, and {@link #error()} says so to the guest (XENSTORE_ERROR_RINGIDX).
 */
public final class StoreRing {
    public static final int RING_SIZE = 1024;
    public static final int REQ = 0x000;
    public static final int RSP = 0x400;
    public static final int REQ_CONS = 0x800;
    public static final int REQ_PROD = 0x804;
    public static final int RSP_CONS = 0x808;
    public static final int RSP_PROD = 0x80C;
    public static final int SERVER_FEATURES = 0x810;
    public static final int CONNECTION = 0x814;
    public static final int ERROR = 0x818;
    /** The bytes of the interface. */
    public static final int SIZE = 0x81C;
    /** server_features: the error field is there (XENSTORE_SERVER_FEATURE_ERROR). */
    public static final int FEATURE_ERROR = 2;
    /** error: none, a ring index out of range, a protocol violation (XENSTORE_ERROR_NONE, _RINGIDX, _PROTO). */
    public static final int ERROR_NONE = 0;
    public static final int ERROR_RINGIDX = 2;
    public static final int ERROR_PROTO = 3;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment page;

    /** The interface at the start of {@code page}, which must hold its {@value #SIZE} bytes. */
    public StoreRing(MemorySegment page) {
        if (page.byteSize() < SIZE) {
            throw new IllegalArgumentException("a xenstore interface needs " + SIZE + " bytes, got " + page.byteSize());
        }
        this.page = page;
    }

    /** Offers the error field: sets server_features' bit, as xenstored does when it connects a domain. */
    public void advertiseFeatures() {
        page.set(U32, SERVER_FEATURES, page.get(U32, SERVER_FEATURES) | FEATURE_ERROR);
    }

    public int error() {
        return page.get(U32, ERROR);
    }

    /** Records a fault for the guest (XENSTORE_ERROR_*). */
    public void setError(int error) {
        page.set(U32, ERROR, error);
    }

    /** Request bytes waiting, or -1 if the indices claim more than the ring holds. */
    public int requestBytes() {
        int used = read(REQ_PROD) - read(REQ_CONS);
        return Integer.compareUnsigned(used, RING_SIZE) > 0 ? -1 : used;
    }

    /** Room in the response ring, or -1 if the indices claim more than the ring holds. */
    public int responseSpace() {
        int used = read(RSP_PROD) - read(RSP_CONS);
        return Integer.compareUnsigned(used, RING_SIZE) > 0 ? -1 : RING_SIZE - used;
    }

    /** Takes up to {@code len} request bytes into {@code b}; returns how many, or -1 for bad indices. */
    public int readRequest(byte[] b, int off, int len) {
        // Each index is read once: the guest may change them under us, and must not make us read twice differently.
        int cons = read(REQ_CONS);
        int prod = read(REQ_PROD);
        int avail = prod - cons;
        if (Integer.compareUnsigned(avail, RING_SIZE) > 0) {
            return -1;
        }
        VarHandle.acquireFence(); // the bytes after the producer index that announced them
        int n = Math.min(avail, len);
        copyOut(REQ, cons, b, off, n);
        VarHandle.releaseFence(); // the bytes read before the guest may reuse them
        page.set(U32, REQ_CONS, cons + n);
        return n;
    }

    /** Puts up to {@code len} response bytes from {@code b}; returns how many, or -1 for bad indices. */
    public int writeResponse(byte[] b, int off, int len) {
        int prod = read(RSP_PROD);
        int cons = read(RSP_CONS);
        int used = prod - cons;
        if (Integer.compareUnsigned(used, RING_SIZE) > 0) {
            return -1;
        }
        VarHandle.acquireFence(); // the guest's consumer index before reusing its room
        int n = Math.min(RING_SIZE - used, len);
        for (int i = 0; i < n; i++) {
            page.set(ValueLayout.JAVA_BYTE, RSP + ((prod + i) & (RING_SIZE - 1)), b[off + i]);
        }
        VarHandle.releaseFence(); // the bytes before the producer index that announces them
        page.set(U32, RSP_PROD, prod + n);
        return n;
    }

    private void copyOut(int ring, int index, byte[] b, int off, int n) {
        for (int i = 0; i < n; i++) {
            b[off + i] = page.get(ValueLayout.JAVA_BYTE, ring + ((index + i) & (RING_SIZE - 1)));
        }
    }

    private int read(int offset) {
        return page.get(U32, offset);
    }
}
