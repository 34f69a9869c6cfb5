package xen.evtchn.impl;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.IntPredicate;

/**
 * A domain's ports: one packed {@link PortEntry} long per port, and a one-bit-per-{@value #GROUP}
 * -ports summary of the groups that still hold a free port, so finding the lowest free port (Xen's
 * order) reads at most {@code limit/64/64} summary words plus one group, whatever the table's
 * fill: O(1), where Xen and QEMU scan every port.
 * <p>
 * Validity follows Xen's buckets: a port becomes valid when its group is first used and stays
 * valid for the life of the domain (XSA-338), even across reset.
 * <p>
 * Writers hold the owning domain's write lock; readers (send, unmask, upcall paths) read entries
 * with acquire semantics and no lock.
 */
final class PortTable {
    /** Ports per allocation group; also the unit in which ports become valid, like Xen's buckets. */
    static final int GROUP = 64;
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] entries;
    private final long[] groupsWithFree;
    private volatile int validPorts;

    PortTable(int limit) {
        if (limit < GROUP || limit % GROUP != 0) {
            throw new IllegalArgumentException("port limit must be a positive multiple of " + GROUP + ": " + limit);
        }
        entries = new long[limit];
        groupsWithFree = new long[(limit / GROUP + 63) / 64];
        for (int g = 0; g < limit / GROUP; g++) {
            groupsWithFree[g >>> 6] |= 1L << g;
        }
        entries[0] = PortEntry.RESERVED_ENTRY;
    }

    int limit() {
        return entries.length;
    }

    /** Ports below this are valid (Xen's port_is_valid). */
    int validPorts() {
        return validPorts;
    }

    /** True if {@code port} (a guest u32, so negative is huge) is valid. */
    boolean isValid(int port) {
        return port >= 0 && port < validPorts;
    }

    /** The entry of a port below {@link #limit()}. */
    long get(int port) {
        return (long) ENTRY.getAcquire(entries, port);
    }

    /** Writer only: changes the entry of a bound port. */
    void set(int port, long entry) {
        ENTRY.setRelease(entries, port, entry);
    }

    /**
     * Writer only: the lowest free port that {@code busy} does not hold back, or -1 if there is
     * none below the limit. The port stays free until {@link #set}.
     */
    int lowestFree(IntPredicate busy) {
        for (int w = 0; w < groupsWithFree.length; w++) {
            long bits = groupsWithFree[w];
            while (bits != 0) {
                int group = w * 64 + Long.numberOfTrailingZeros(bits);
                int port = freeIn(group, busy);
                if (port >= 0) {
                    return port;
                }
                bits &= bits - 1;
            }
        }
        return -1;
    }

    private int freeIn(int group, IntPredicate busy) {
        for (int p = group * GROUP, end = p + GROUP; p < end; p++) {
            if (entries[p] == PortEntry.FREE_ENTRY && (busy == null || !busy.test(p))) {
                return p;
            }
        }
        return -1;
    }

    /** Writer only: binds the free {@code port} found by {@link #lowestFree}, making its group valid. */
    void allocate(int port, long entry) {
        ENTRY.setRelease(entries, port, entry);
        int group = port / GROUP;
        int groupEnd = (group + 1) * GROUP;
        if (groupEnd > validPorts) {
            validPorts = groupEnd;
        }
        for (int p = group * GROUP, end = p + GROUP; p < end; p++) {
            if (entries[p] == PortEntry.FREE_ENTRY) {
                return;
            }
        }
        groupsWithFree[group >>> 6] &= ~(1L << group);
    }

    /** Writer only: frees a bound port. */
    void free(int port) {
        ENTRY.setRelease(entries, port, PortEntry.FREE_ENTRY);
        int group = port / GROUP;
        groupsWithFree[group >>> 6] |= 1L << group;
    }
}
