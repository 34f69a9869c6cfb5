package xen.store.wire;

/**
 * Moves one domain's bytes between its {@link StoreRing} and its {@link Connection}: replies and
 * events out as far as the response ring has room, requests in as far as the connection takes
 * them. Each call does a bounded amount of work (a ring's worth each way at most per round, and it
 * stops when nothing moves), so one domain's flood cannot hold the store for long. A guest that
 * corrupts its indices or sends an oversized message gets the ring's error field set and is no
 * longer served, as xenstored ignores such a client.
 */
public final class RingService {
    private final StoreRing ring;
    private final Connection connection;
    private final byte[] buffer = new byte[StoreRing.RING_SIZE];

    public RingService(StoreRing ring, Connection connection) {
        this.ring = ring;
        this.connection = connection;
    }

    /** One service pass; true if any byte moved (then the guest should be notified on its store port). */
    public boolean pump() {
        if (connection.broken()) {
            return false;
        }
        boolean moved = false;
        for (int round = 0; round < 2 * StoreRing.RING_SIZE; round++) {
            boolean progress = false;
            if (connection.hasOutput()) {
                int space = ring.responseSpace();
                if (space < 0) {
                    fail(StoreRing.ERROR_RINGIDX);
                    return moved;
                }
                int n = connection.produce(buffer, 0, space);
                if (n > 0) {
                    if (ring.writeResponse(buffer, 0, n) != n) {
                        // The guest moved its index meanwhile: what was taken cannot be put, the stream is lost.
                        fail(StoreRing.ERROR_RINGIDX);
                        return true;
                    }
                    progress = true;
                }
            }
            int wanted = connection.wanted();
            if (wanted > 0) {
                int n = ring.readRequest(buffer, 0, Math.min(wanted, buffer.length));
                if (n < 0) {
                    fail(StoreRing.ERROR_RINGIDX);
                    return moved;
                }
                if (n > 0) {
                    connection.accept(buffer, 0, n);
                    progress = true;
                    if (connection.broken()) {
                        ring.setError(StoreRing.ERROR_PROTO);
                        return true;
                    }
                }
            }
            if (!progress) {
                break;
            }
            moved = true;
        }
        return moved;
    }

    private void fail(int error) {
        ring.setError(error);
        connection.close();
    }
}
