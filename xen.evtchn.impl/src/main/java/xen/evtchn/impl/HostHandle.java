package xen.evtchn.impl;

import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;

/**
 * One backend's handle: the host ports whose entries name it, and its queue of ports with events.
 * Binding, unbinding and closing are serialised per handle, so a close cannot miss a port that a
 * concurrent bind of the same handle is adding.
 */
final class HostHandle implements EvtchnHandle {
    final int id;
    private final HostBackends host;
    private final LinkedBlockingQueue<Integer> events = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    HostHandle(HostBackends host, int id) {
        this.host = host;
        this.id = id;
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
        GuestDomain guest = host.domains.guest(domid);
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
            EventDomain peer = host.domains.get(PortEntry.remoteDom(e));
            if (peer != null) {
                peer.raiseFrom(PortEntry.remotePort(e), host.domid, port);
            }
        }
    }

    @Override
    public int pending(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (;;) {
            Integer port = events.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (port == null) {
                return -1;
            }
            if (ownsNow(port)) {
                return port;
            }
        }
    }

    @Override
    public int pending() {
        for (Integer port; (port = events.poll()) != null;) {
            if (ownsNow(port)) {
                return port;
            }
        }
        return -1;
    }

    @Override
    public void unmask(int port) throws EvtchnException {
        owned(port);
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
