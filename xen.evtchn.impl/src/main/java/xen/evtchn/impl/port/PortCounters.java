package xen.evtchn.impl.port;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.impl.evtchn.Domains;

/**
 * Per-port event counters for tools (sent from the port, raised on it), kept apart from the port
 * table and off unless the host counts ({@link Domains#countEvents}): a port costs 8 bytes of
 * heap, and counting adds 16 for each port of a block of {@value PortTable#GROUP} made at the first
 * event of one of them. While counting is off the counts stand still.
 */
public final class PortCounters {
    /** The host's switch, shared by all its domains. */
    public static final class Switch {
        public volatile boolean on;
    }

    private static final int SENT = 0;
    private static final int RAISED = 1;

    private final Switch counting;
    /** Blocks by port / GROUP; grows (under this monitor, as blocks are made) when the FIFO ABI raises the limit. */
    private volatile AtomicReferenceArray<AtomicLongArray> blocks;

    public PortCounters(int limit, Switch counting) {
        this.counting = counting;
        blocks = new AtomicReferenceArray<>(limit / PortTable.GROUP);
    }

    public void sent(int port) {
        if (counting.on) {
            block(port).incrementAndGet(slot(port, SENT));
        }
    }

    public void raised(int port) {
        if (counting.on) {
            block(port).incrementAndGet(slot(port, RAISED));
        }
    }

    public long sentCount(int port) {
        return read(port, SENT);
    }

    public long raisedCount(int port) {
        return read(port, RAISED);
    }

    /** A port is bound afresh: its counts start at 0. */
    public void reset(int port) {
        AtomicLongArray b = existing(port);
        if (b != null) {
            b.set(slot(port, SENT), 0);
            b.set(slot(port, RAISED), 0);
        }
    }

    private long read(int port, int which) {
        AtomicLongArray b = existing(port);
        return b == null ? 0 : b.get(slot(port, which));
    }

    private AtomicLongArray existing(int port) {
        AtomicReferenceArray<AtomicLongArray> all = blocks;
        int i = port / PortTable.GROUP;
        return i < all.length() ? all.get(i) : null;
    }

    private AtomicLongArray block(int port) {
        AtomicLongArray b = existing(port);
        return b != null ? b : make(port / PortTable.GROUP);
    }

    /** Once per block: made (and the index grown) under the monitor, so that no block is lost to a copy. */
    private synchronized AtomicLongArray make(int i) {
        AtomicReferenceArray<AtomicLongArray> all = blocks;
        if (i >= all.length()) {
            AtomicReferenceArray<AtomicLongArray> grown = new AtomicReferenceArray<>(Math.max(i + 1, 2 * all.length()));
            for (int j = 0; j < all.length(); j++) {
                grown.set(j, all.get(j));
            }
            blocks = all = grown;
        }
        AtomicLongArray b = all.get(i);
        if (b == null) {
            b = new AtomicLongArray(2 * PortTable.GROUP);
            all.set(i, b);
        }
        return b;
    }

    private static int slot(int port, int which) {
        return 2 * (port % PortTable.GROUP) + which;
    }
}
