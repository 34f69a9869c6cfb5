package xen.store.save;

import java.util.List;
import xen.store.tree.Store;
import xen.store.wire.Connection;

/**
 * A domain's state in the store, as values: its nodes (its home and the backend directories dom0
 * keeps for it, parents before children), its connection's watches in the order registered, the
 * ids of its open transactions (they come back doomed: their commit is EAGAIN), and its
 * connection's bytes in flight, or null if the store served no ring for it. The host's own part
 * (domain 0, parked while the bundle is updated) has nodes only.
 */
public record StoreImage(List<Store.NodeState> nodes, List<Store.WatchState> watches, List<Integer> transactions,
        Connection.State connection) {
    public StoreImage {
        nodes = List.copyOf(nodes);
        watches = List.copyOf(watches);
        transactions = List.copyOf(transactions);
    }
}
