package xen.evtchn.impl;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Per-port event counters for tools (sent from the port, raised on it), kept apart from the port
 * table and off unless the host counts ({@link Domains#countEvents}): a port costs 8 bytes of
 * heap, and counting adds 16 for each port of a block of {@value PortTable#GROUP} made at the first
 * event of one of them. While counting is off the counts stand still.
 */
final class PortCounters {
    /** The host's switch, shared by all its domains. */
    static final class Switch {
        volatile boolean on;
    }

    private static final int SENT = 0;
    private static final int RAISED = 1;

    private final Switch counting;
    private final AtomicReferenceArray<AtomicLongArray> blocks;

    PortCounters(int limit, Switch counting) {
        this.counting = counting;
        blocks = new AtomicReferenceArray<>(limit / PortTable.GROUP);
    }

    void sent(int port) {
        if (counting.on) {
            block(port).incrementAndGet(slot(port, SENT));
        }
    }

    void raised(int port) {
        if (counting.on) {
            block(port).incrementAndGet(slot(port, RAISED));
        }
    }

    long sentCount(int port) {
        return read(port, SENT);
    }

    long raisedCount(int port) {
        return read(port, RAISED);
    }

    /** A port is bound afresh: its counts start at 0. */
    void reset(int port) {
        AtomicLongArray b = blocks.get(port / PortTable.GROUP);
        if (b != null) {
            b.set(slot(port, SENT), 0);
            b.set(slot(port, RAISED), 0);
        }
    }

    private long read(int port, int which) {
        AtomicLongArray b = blocks.get(port / PortTable.GROUP);
        return b == null ? 0 : b.get(slot(port, which));
    }

    private AtomicLongArray block(int port) {
        int i = port / PortTable.GROUP;
        AtomicLongArray b = blocks.get(i);
        if (b == null) {
            AtomicLongArray fresh = new AtomicLongArray(2 * PortTable.GROUP);
            b = blocks.compareAndExchange(i, null, fresh);
            if (b == null) {
                b = fresh;
            }
        }
        return b;
    }

    private static int slot(int port, int which) {
        return 2 * (port % PortTable.GROUP) + which;
    }
}
