package xen.evtchn.impl.port;



import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.function.IntPredicate;
import xen.evtchn.api.abi.EvtchnFifo;

/**
 * A domain's ports: one packed {@link PortEntry} long per port, a one-bit-per-{@value #GROUP}
 * -ports summary of the groups that still hold a free port, one bit per summary word saying it
 * has one (the FIFO ABI's 2^17 ports make 32 summary words), and per group the offset below which
 * all its ports are bound. Finding the lowest free port (Xen's order) reads the top word, one
 * summary word, and starts at that offset, whatever the table's fill: O(1), where Xen and QEMU
 * scan every port.
 * <p>
 * Validity follows Xen's buckets: the first group is valid from the start, a later port becomes
 * valid when its group is first used, and every port stays valid for the life of the domain
 * (XSA-338), even across reset. The entry array grows with the valid ports (doubling, up to the
 * limit), so a domain that uses few ports holds few entries, and a full one exactly one long a port.
 * <p>
 * Writers hold the owning domain's write lock; readers (send, unmask, upcall paths) read entries
 * with acquire semantics and no lock. A reader that still sees the array from before a growth
 * reads the same entries: growth copies them under the write lock, which invalidates the
 * readers' optimistic stamps (see the event channels' domains).
 */
public final class PortTable {
    /** Ports per allocation group; also the unit in which ports become valid, like Xen's buckets. */
    public static final int GROUP = 64;
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);

    private int limit;
    private long[] groupsWithFree;
    /** Bit w: groupsWithFree[w] is not 0 (at most 64 summary words: limits up to 2^18 ports). */
    private long wordsWithFree;
    /** Per group: every port below this offset in the group is bound (or held back as busy). */
    private byte[] firstMaybeFree;
    private volatile long[] entries;
    private volatile int validPorts;

    public PortTable(int limit) {
        long[] first = new long[GROUP];
        first[0] = PortEntry.RESERVED_ENTRY;
        entries = first;
        validPorts = GROUP; // Xen's evtchn_init makes the first bucket valid at domain creation
        setLimit(limit);
    }

    public int limit() {
        return limit;
    }

    private static long summaryOf(long[] words) {
        if (words.length > 64) {
            throw new IllegalArgumentException("at most 2^18 ports: " + words.length * 64 * GROUP);
        }
        long summary = 0;
        for (int w = 0; w < words.length; w++) {
            if (words[w] != 0) {
                summary |= 1L << w;
            }
        }
        return summary;
    }

    /**
     * Writer only: ports below {@code newLimit} may be allocated from now on (the FIFO ABI raises
     * the limit; a reset to 2-level lowers it again). Ports valid so far stay valid, even beyond a
     * lowered limit (XSA-338); ports in use must all be below it.
     */
    public void setLimit(int newLimit) {
        if (newLimit < GROUP || Integer.bitCount(newLimit) != 1) {
            throw new IllegalArgumentException("port limit must be a power of two of at least " + GROUP + ": " + newLimit);
        }
        long[] e = entries;
        for (int p = newLimit; p < e.length; p++) {
            if (PortEntry.isBound(e[p])) {
                throw new IllegalStateException("port " + p + " is in use above the new limit " + newLimit);
            }
        }
        int groups = newLimit / GROUP;
        long[] free = new long[(groups + 63) / 64];
        byte[] first = new byte[groups];
        for (int g = 0; g < groups; g++) {
            int p = g * GROUP + (g == 0 ? 1 : 0); // port 0 is reserved
            while (p < (g + 1) * GROUP && p < e.length && e[p] != PortEntry.FREE_ENTRY) {
                p++;
            }
            first[g] = (byte) (p - g * GROUP);
            if (p < (g + 1) * GROUP) {
                free[g >>> 6] |= 1L << g;
            }
        }
        groupsWithFree = free;
        wordsWithFree = summaryOf(free);
        firstMaybeFree = first;
        limit = newLimit;
    }

    /** Ports below this are valid (Xen's port_is_valid). */
    public int validPorts() {
        return validPorts;
    }

    /** True if {@code port} (a guest u32, so negative is huge) is valid. */
    public boolean isValid(int port) {
        return port >= 0 && port < validPorts;
    }

    /** The entry of a port; FREE beyond the entries held so far. */
    public long get(int port) {
        long[] e = entries;
        return port < e.length ? (long) ENTRY.getAcquire(e, port) : PortEntry.FREE_ENTRY;
    }

    /** Writer only: changes the entry of a bound port. */
    public void set(int port, long entry) {
        ENTRY.setRelease(entries, port, entry);
    }

    /**
     * Writer only: the lowest free port that {@code busy} does not hold back, or -1 if there is
     * none below the limit. The port stays free until {@link #allocate}.
     */
    public int lowestFree(IntPredicate busy) {
        for (long words = wordsWithFree; words != 0; words &= words - 1) {
            int w = Long.numberOfTrailingZeros(words);
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
        long[] e = entries;
        if (group * GROUP >= e.length) {
            return group * GROUP; // never valid, so neither bound nor busy
        }
        for (int p = group * GROUP + firstMaybeFree[group], end = (group + 1) * GROUP; p < end; p++) {
            if (e[p] == PortEntry.FREE_ENTRY && (busy == null || !busy.test(p))) {
                return p;
            }
        }
        return -1;
    }

    /** Writer only: binds the free {@code port} found by {@link #lowestFree}, making its group valid. */
    public void allocate(int port, long entry) {
        long[] e = entries;
        if (port >= e.length) {
            e = Arrays.copyOf(e, Math.min(limit, Integer.highestOneBit(port) * 2));
            entries = e;
        }
        ENTRY.setRelease(e, port, entry);
        int group = port / GROUP;
        int groupEnd = (group + 1) * GROUP;
        if (groupEnd > validPorts) {
            validPorts = groupEnd;
        }
        int offset = port - group * GROUP;
        if (firstMaybeFree[group] == offset) {
            firstMaybeFree[group] = (byte) (offset + 1); // busy ports below it keep it where it is
        }
        for (int p = group * GROUP + firstMaybeFree[group]; p < groupEnd; p++) {
            if (e[p] == PortEntry.FREE_ENTRY) {
                return;
            }
        }
        if ((groupsWithFree[group >>> 6] &= ~(1L << group)) == 0) {
            wordsWithFree &= ~(1L << (group >>> 6));
        }
    }

    /**
     * Writer only: ports below {@code ports} (a multiple of {@link #GROUP}) are valid, as after a
     * restore. They may reach beyond the limit: a domain that was on the FIFO ABI and reset keeps
     * its valid ports (XSA-338) but allocates below the 2-level limit again.
     */
    public void makeValid(int ports) {
        if (ports % GROUP != 0 || ports > EvtchnFifo.NR_CHANNELS) {
            throw new IllegalArgumentException("valid ports must be a multiple of " + GROUP + " up to 2^17: " + ports);
        }
        validPorts = Math.max(validPorts, ports);
    }

    /** Writer only: how many ports are in use (a scan: for a restore's planning and reset's last check). */
    public int boundCount() {
        long[] e = entries;
        int n = 0;
        for (int p = 1; p < e.length; p++) {
            if (PortEntry.isBound(e[p])) {
                n++;
            }
        }
        return n;
    }

    /** Writer only: frees a bound port. */
    public void free(int port) {
        ENTRY.setRelease(entries, port, PortEntry.FREE_ENTRY);
        int group = port / GROUP;
        groupsWithFree[group >>> 6] |= 1L << group;
        wordsWithFree |= 1L << (group >>> 6);
        firstMaybeFree[group] = (byte) Math.min(firstMaybeFree[group], port - group * GROUP);
    }
}
