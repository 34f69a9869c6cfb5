package xen.evtchn.impl;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Per-port event counters for tools (sent from the port, raised on it), kept apart from the port
 * table so that a port that never carries an event costs no heap for them: a block of
 * {@value PortTable#GROUP} ports' counters is made at the first event of one of its ports.
 */
final class PortCounters {
    private static final int SENT = 0;
    private static final int RAISED = 1;

    private final AtomicReferenceArray<AtomicLongArray> blocks;

    PortCounters(int limit) {
        blocks = new AtomicReferenceArray<>(limit / PortTable.GROUP);
    }

    void sent(int port) {
        block(port).incrementAndGet(slot(port, SENT));
    }

    void raised(int port) {
        block(port).incrementAndGet(slot(port, RAISED));
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
