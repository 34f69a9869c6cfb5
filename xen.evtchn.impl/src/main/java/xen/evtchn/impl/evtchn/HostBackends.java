package xen.evtchn.impl.evtchn;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.impl.port.PortEntry;
import xen.evtchn.impl.port.PortTable;

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
    /** Named handles, open or parked, by name. */
    private final Map<String, HostHandle> named = new HashMap<>();

    HostBackends(Domains domains, int ports) {
        super(DomId.HOST, new PortTable(ports), domains.counting);
        this.domains = domains;
        this.delivery = new AtomicIntegerArray(ports);
    }

    @Override
    public EvtchnHandle open() {
        return register(id -> new HostHandle(this, id));
    }

    private HostHandle register(IntFunction<HostHandle> make) {
        for (int id = 0; id < MAX_HANDLES; id++) {
            if (handles.get(id) == null) {
                HostHandle h = make.apply(id);
                if (handles.compareAndSet(id, null, h)) {
                    return h;
                }
            }
        }
        throw new IllegalStateException("all " + MAX_HANDLES + " host event channel handles are open or parked");
    }

    /**
     * A named handle: the parked one of that name taken over (same id, so its port entries still
     * name it; same queue, so the events that came meanwhile are there), or a new one.
     */
    @Override
    public synchronized EvtchnHandle open(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME) {
            throw new IllegalArgumentException("a handle name must have 1 to " + MAX_NAME + " characters: "
                    + (name == null ? "null" : "\"" + name.substring(0, Math.min(name.length(), MAX_NAME)) + "\""));
        }
        HostHandle parked = named.get(name);
        if (parked != null && !parked.isParked()) {
            throw new IllegalStateException("a handle named \"" + name + "\" is open");
        }
        HostHandle h;
        if (parked != null) {
            h = new HostHandle(this, parked.id, name, parked.events);
            if (!handles.compareAndSet(parked.id, parked, h)) {
                throw new IllegalStateException("the parked handle \"" + name + "\" lost its id");
            }
        } else {
            h = register(id -> new HostHandle(this, id, name, new LinkedBlockingQueue<>()));
        }
        named.put(name, h);
        return h;
    }

    @Override
    public List<BackendState> backends() {
        List<BackendState> all = new ArrayList<>();
        for (HostHandle h : namedHandles()) {
            all.add(h.state());
        }
        all.sort(Comparator.comparing(BackendState::name));
        return all;
    }

    @Override
    public synchronized boolean isParked(String name) {
        HostHandle h = named.get(name);
        return h != null && h.isParked();
    }

    /**
     * Every named handle's bindings to guest {@code domid}, for a save: by name, each with the
     * host ports whose event the backend has not yet dealt with. Handles without one are left out.
     */
    List<BackendImage> savedBackends(int domid) {
        List<BackendImage> all = new ArrayList<>();
        for (HostHandle h : namedHandles()) {
            List<BackendState.Binding> mine = new ArrayList<>();
            List<Integer> pending = new ArrayList<>();
            for (BackendState.Binding b : h.state().bindings()) {
                if (b.domid() == domid) {
                    mine.add(b);
                    if (delivery.get(b.port()) != 0) {
                        pending.add(b.port());
                    }
                }
            }
            if (!mine.isEmpty()) {
                all.add(new BackendImage(new BackendState(h.name, mine), pending));
            }
        }
        all.sort(Comparator.comparing(s -> s.state().name()));
        return all;
    }

    /**
     * The named handles now. Their states are read outside this monitor: a handle's close holds
     * its own monitor and then takes this one.
     */
    private synchronized List<HostHandle> namedHandles() {
        return List.copyOf(named.values());
    }

    /** Named handles that exist, open or parked. */
    synchronized boolean hasNamed(String name) {
        return named.containsKey(name);
    }

    /** Free handle ids. */
    synchronized int freeHandles() {
        int n = 0;
        for (int id = 0; id < MAX_HANDLES; id++) {
            if (handles.get(id) == null) {
                n++;
            }
        }
        return n;
    }

    /**
     * For a restore (this monitor held): the handle of that name, open or parked, or a new one
     * parked under the name until a backend opens it.
     */
    synchronized HostHandle namedForRestore(String name) {
        HostHandle h = named.get(name);
        if (h == null) {
            h = register(id -> new HostHandle(this, id, name, new LinkedBlockingQueue<>()));
            h.park();
            named.put(name, h);
        }
        return h;
    }

    synchronized void closed(HostHandle h) {
        handles.compareAndSet(h.id, h, null);
        named.remove(h.name, h);
    }

    /**
     * Queues the port on the handle that owns it once the state says so, not on the one the
     * sender saw: a send that raced an unbind and a new bind of the same port number must reach
     * the new owner. If the port is not bound at that moment, the state stays set until the next
     * bind resets it ({@link #setPendingOnBind}).
     */
    @Override
    void setPending(int port, int staleHandle) {
        int s;
        do {
            s = delivery.get(port);
            if ((s & AGAIN) != 0) {
                return;
            }
        } while (!delivery.compareAndSet(port, s, s == 0 ? QUEUED : QUEUED | AGAIN));
        if (s == 0) {
            queueOnOwner(port);
        }
    }

    /** A fresh binding's event always reaches its handle, whatever a racing late send left behind. */
    @Override
    void setPendingOnBind(int port, int handle) {
        delivery.set(port, QUEUED);
        queueOnOwner(port);
    }

    private void queueOnOwner(int port) {
        long e = ports.get(port);
        if (PortEntry.isBound(e)) {
            HostHandle h = handles.get(PortEntry.vcpu(e));
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

    /** A port freed with an event still queued must not be reported again if it is bound anew. */
    @Override
    void unbinding(int port, long entry) {
        HostHandle h = handles.get(PortEntry.vcpu(entry));
        if (h != null) {
            h.dequeue(port);
        }
    }

    @Override
    void clearPending(int port) {
        delivery.set(port, 0);
    }
}
