package xen.evtchn.impl;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;

/**
 * The host's backends as domain {@link DomId#HOST}: their ports live in one table, each entry's
 * target field naming the {@link HostHandle} that owns it. An event queues the port on its handle
 * once and leaves it masked until the handle unmasks it; one that arrives meanwhile is remembered
 * and queued again at the unmask, so none is lost and none is reported twice for one arrival.
 */
final class HostBackends extends EventDomain implements EvtchnHost {
    /** Open handles at most: the entry's target field has 16 bits. */
    static final int MAX_HANDLES = 1024;
    private static final int QUEUED = 1;
    private static final int AGAIN = 2;

    final Domains domains;
    private final AtomicIntegerArray delivery;
    private final AtomicReferenceArray<HostHandle> handles = new AtomicReferenceArray<>(MAX_HANDLES);

    HostBackends(Domains domains, int ports) {
        super(DomId.HOST, new PortTable(ports));
        this.domains = domains;
        this.delivery = new AtomicIntegerArray(ports);
    }

    @Override
    public EvtchnHandle open() {
        for (int id = 0; id < MAX_HANDLES; id++) {
            if (handles.get(id) == null) {
                HostHandle h = new HostHandle(this, id);
                if (handles.compareAndSet(id, null, h)) {
                    return h;
                }
            }
        }
        throw new IllegalStateException("all " + MAX_HANDLES + " host event channel handles are open");
    }

    void closed(HostHandle h) {
        handles.compareAndSet(h.id, h, null);
    }

    @Override
    void setPending(int port, int handle) {
        int s;
        do {
            s = delivery.get(port);
            if ((s & AGAIN) != 0) {
                return;
            }
        } while (!delivery.compareAndSet(port, s, s == 0 ? QUEUED : QUEUED | AGAIN));
        if (s == 0) {
            HostHandle h = handles.get(handle);
            if (h != null) {
                h.queue(port);
            }
        }
    }

    /** The handle took {@code port} off its queue and unmasks it: queue it again if another event came. */
    void unmask(int port, HostHandle h) {
        int s;
        do {
            s = delivery.get(port);
        } while (!delivery.compareAndSet(port, s, (s & AGAIN) != 0 ? QUEUED : 0));
        if ((s & AGAIN) != 0) {
            h.queue(port);
        }
    }

    @Override
    void clearPending(int port) {
        delivery.set(port, 0);
    }
}
