package xen.evtchn.api.store;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A transaction of domain 0 (xs_transaction_t): its node operations see its own view of the tree,
 * and watches hear of its changes only when it commits. Once ended (committed, aborted, closed),
 * its operations fail with ENOENT.
 */
@ProviderType
public interface XenStoreTransaction extends XenStoreNodes, AutoCloseable {
    /**
     * xs_transaction_end(false): applies the changes, or fails with EAGAIN if a node this
     * transaction read or changed has changed since; the transaction is over either way, and the
     * caller retries with a new one.
     */
    void commit();

    /** xs_transaction_end(true): drops the changes. */
    void abort();

    /** Aborts the transaction unless it has ended. */
    @Override
    void close();
}
