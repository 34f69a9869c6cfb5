package xen.store.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The guest's side of a xenstore ring page, as Linux's xb_write/xb_read use it, for the tests. */
final class Guest {
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    final MemorySegment page;

    Guest(MemorySegment page) {
        this.page = page;
    }

    int get(int offset) {
        return page.get(U32, offset);
    }

    void set(int offset, int value) {
        page.set(U32, offset, value);
    }

    /** Writes as much of {@code bytes} as the request ring has room for; returns how much. */
    int send(byte[] bytes, int off) {
        int prod = get(StoreRing.REQ_PROD);
        int room = StoreRing.RING_SIZE - (prod - get(StoreRing.REQ_CONS));
        int n = Math.min(room, bytes.length - off);
        for (int i = 0; i < n; i++) {
            page.set(ValueLayout.JAVA_BYTE, StoreRing.REQ + ((prod + i) & (StoreRing.RING_SIZE - 1)), bytes[off + i]);
        }
        set(StoreRing.REQ_PROD, prod + n);
        return n;
    }

    /** Takes every byte waiting in the response ring. */
    byte[] receive() {
        int cons = get(StoreRing.RSP_CONS);
        int n = get(StoreRing.RSP_PROD) - cons;
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = page.get(ValueLayout.JAVA_BYTE, StoreRing.RSP + ((cons + i) & (StoreRing.RING_SIZE - 1)));
        }
        set(StoreRing.RSP_CONS, cons + n);
        return b;
    }
}
