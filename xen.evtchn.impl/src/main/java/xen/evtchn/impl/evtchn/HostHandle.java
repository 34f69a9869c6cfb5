package xen.evtchn.impl.evtchn;

import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.port.PortEntry;

/**
 * One backend's handle: the host ports whose entries name it (by id), and its queue of ports with
 * events. Binding, unbinding and closing are serialised per handle, so a close cannot miss a port
 * that a concurrent bind of the same handle is adding.
 * <p>
 * A named handle can be detached: it is closed for its owner, but its ports stay bound and its
 * queue keeps filling, parked in {@link HostBackends} until a handle of the same name takes the
 * id and the queue over ({@link HostBackends#open(String)}).
 */
final class HostHandle implements EvtchnHandle {
    final int id;
    /** The name, or "" for an anonymous handle. */
    final String name;
    private final HostBackends host;
    final LinkedBlockingQueue<Integer> events;
    /** Ports {@link #pending} returned that were not unmasked yet: their events are with the owner. */
    private final Set<Integer> outstanding = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Detached: closed for its owner, its ports and queue kept for the next handle of its name. */
    private volatile boolean detached;

    HostHandle(HostBackends host, int id) {
        this(host, id, "", new LinkedBlockingQueue<>());
    }

    /** A handle taking over {@code events}, the queue of a parked handle with this id. */
    HostHandle(HostBackends host, int id, String name, LinkedBlockingQueue<Integer> events) {
        this.host = host;
        this.id = id;
        this.name = name;
        this.events = events;
    }

    boolean isParked() {
        return detached;
    }

    /** A new handle made for a restore waits, parked, for its backend to open its name. */
    synchronized void park() {
        closed = true;
        detached = true;
    }

    void queue(int port) {
        events.add(port);
    }

    void dequeue(int port) {
        events.remove(port);
    }

    @Override
    public synchronized int bindInterdomain(int domid, int remotePort) throws EvtchnException {
        checkOpen();
        GuestEventChannels guest = host.domains.guest(domid);
        if (guest == null) {
            throw new EvtchnException(ESRCH, "no guest domain " + domid);
        }
        int port = Interdomain.bind(host, guest, remotePort, id);
        if (port < 0) {
            throw new EvtchnException(-port, "cannot bind to port " + Integer.toUnsignedString(remotePort)
                    + " of domain " + domid + (-port == EINVAL ? ": it is not an unbound port offered to the host" : ""));
        }
        return port;
    }

    @Override
    public synchronized void unbind(int port) throws EvtchnException {
        owned(port);
        Interdomain.close(host, port, host.domains);
    }

    @Override
    public void notify(int port) throws EvtchnException {
        long e = owned(port);
        if (PortEntry.type(e) == PortEntry.INTERDOMAIN) {
            host.counters.sent(port);
            EventDomain peer = host.domains.get(PortEntry.remoteDom(e));
            if (peer != null) {
                peer.raiseFrom(PortEntry.remotePort(e), host.domid, port);
            }
        }
    }

    @Override
    public int pending(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (!closed) {
            Integer port = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (port == null) {
                return -1;
            }
            if (taken(port)) {
                return port;
            }
        }
        return -1;
    }

    @Override
    public int pending() {
        for (Integer port; !closed && (port = events.poll()) != null;) {
            if (taken(port)) {
                return port;
            }
        }
        return -1;
    }

    @Override
    public void unmask(int port) throws EvtchnException {
        owned(port);
        outstanding.remove(port);
        host.unmask(port, this);
    }

    @Override
    public Peer peer(int port) throws EvtchnException {
        long e = owned(port);
        return PortEntry.type(e) == PortEntry.INTERDOMAIN ? new Peer(PortEntry.remoteDom(e), PortEntry.remotePort(e)) : null;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int port = 1; port < host.ports.validPorts(); port++) {
            if (ownsNow(port)) {
                Interdomain.close(host, port, host.domains);
            }
        }
        events.clear();
        host.closed(this);
    }

    @Override
    public synchronized BackendState state() {
        List<BackendState.Binding> bindings = new ArrayList<>();
        for (int port = 1; port < host.ports.validPorts(); port++) {
            long e = host.ports.get(port);
            if (PortEntry.isBound(e) && PortEntry.vcpu(e) == id && PortEntry.type(e) == PortEntry.INTERDOMAIN) {
                bindings.add(new BackendState.Binding(port, PortEntry.remoteDom(e), PortEntry.remotePort(e)));
            }
        }
        return new BackendState(name, bindings);
    }

    /**
     * The ports stay bound and queued under the name. A port the owner took from {@link #pending}
     * and did not unmask is unmasked here: the owner has dealt with its event, and one that came
     * after it must reach the next owner.
     */
    @Override
    public synchronized BackendState detach() {
        if (name.isEmpty()) {
            throw new IllegalStateException("an anonymous handle cannot be detached: open it with a name");
        }
        if (closed) {
            throw new IllegalStateException("the handle \"" + name + "\" is closed");
        }
        closed = true;
        BackendState state = state();
        for (Integer port : outstanding) {
            if (ownsNow(port)) {
                host.unmask(port, this);
            }
        }
        outstanding.clear();
        detached = true;
        return state;
    }

    /**
     * A port off the queue goes to the owner if it still owns it; one unbound meanwhile is skipped.
     * A detached handle's late poll gives the port back: it is the next owner's.
     */
    private synchronized boolean taken(int port) {
        if (closed) {
            events.add(port);
            return false;
        }
        if (!ownsNow(port)) {
            return false;
        }
        outstanding.add(port);
        return true;
    }

    /** A port unbound while it sat in the queue is skipped. */
    private boolean ownsNow(int port) {
        long e = host.ports.get(port);
        return PortEntry.isBound(e) && PortEntry.vcpu(e) == id;
    }

    private long owned(int port) throws EvtchnException {
        checkOpen();
        if (host.ports.isValid(port)) {
            long e = host.ports.get(port);
            if (PortEntry.isBound(e) && PortEntry.vcpu(e) == id) {
                return e;
            }
        }
        throw new EvtchnException(EINVAL, "port " + port + " is not bound by this handle");
    }

    private void checkOpen() throws EvtchnException {
        if (closed) {
            throw new EvtchnException(EINVAL, "the handle is closed");
        }
    }
}
