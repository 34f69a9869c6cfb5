package xen.store.backend;

import xen.store.wire.Connection;
import xen.store.wire.RingService;

/**
 * One domain served by the store: its ring and connection, the host port bound to its store port,
 * and whether it is due a pump (an event came, or its last pump moved bytes and more may wait).
 * Used by the store's thread only.
 */
final class DomainRing {
    final int domid;
    final int port;
    final Connection connection;
    final RingService service;
    /** An event came from the guest (or the domain is new): pump it this round. */
    boolean kicked = true;
    /** The last pump moved bytes: pump again, a flood's next share, after every other domain's. */
    boolean busy;
    /** A fault on its port was reported (once). */
    boolean portFaultReported;
    /** Saved: no longer served, so that the save and the guest's memory agree. */
    boolean frozen;

    DomainRing(int domid, int port, Connection connection, RingService service) {
        this.domid = domid;
        this.port = port;
        this.connection = connection;
        this.service = service;
    }

    /** Whether this round should pump it: kicked, busy, or replies or watch events wait for the ring. */
    boolean due() {
        return !frozen && (kicked || busy || connection.hasOutput());
    }
}
