package xen.store.tree;

/**
 * The limits on each unprivileged domain, xenstored's quotas with its defaults: nodes owned
 * ({@code -E}, 1000), bytes of one value ({@code -S}, 2048; never above the wire's 4096), watches
 * ({@code -W}, 128), open transactions ({@code -t}, 10), nodes one transaction may touch (1024, beyond it
 * ENOSPC, as xenstored's transaction-nodes quota) and entries of one permission list (5);
 * {@code eventQueue} bounds the watch events waiting for one connection (beyond it they are
 * dropped and counted). Domain 0 is not limited, as xenstored's privileged domain.
 */
public record Quotas(int nodes, int valueSize, int watches, int transactions, int transactionNodes, int perms,
        int eventQueue) {
    /** XENSTORE_PAYLOAD_MAX: no value is larger, whatever the quota. */
    public static final int PAYLOAD_MAX = 4096;

    public static final Quotas DEFAULTS = new Quotas(1000, 2048, 128, 10, 1024, 5, 1024);

    public Quotas {
        if (nodes < 1 || valueSize < 0 || valueSize > PAYLOAD_MAX || watches < 0 || transactions < 0
                || transactionNodes < 1 || perms < 1 || eventQueue < 1) {
            throw new IllegalArgumentException("quotas out of range: nodes " + nodes + ", value size "
                    + valueSize + " (at most " + PAYLOAD_MAX + "), watches " + watches + ", transactions "
                    + transactions + ", transaction nodes " + transactionNodes + ", perms " + perms
                    + ", event queue " + eventQueue);
        }
    }
}
