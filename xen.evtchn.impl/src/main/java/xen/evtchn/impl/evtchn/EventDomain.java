package xen.evtchn.impl.evtchn;

import java.util.concurrent.locks.StampedLock;
import java.util.function.IntPredicate;
import xen.evtchn.impl.port.PortCounters;
import xen.evtchn.impl.port.PortEntry;
import xen.evtchn.impl.port.PortTable;

/**
 * What every owner of ports shares, guest domains and the host's backends alike: a domid, a port
 * table, the lock that serialises changes to it, and a way to make one of its ports pending.
 * Interdomain channels ({@link Interdomain}) connect any two of them.
 * <p>
 * Binding and closing take the write lock; sending takes no lock: it reads the entry under an
 * optimistic stamp and, only if a writer ran meanwhile, checks again under the read lock that it
 * did not leave a pending bit on a port that was closed under it.
 */
abstract class EventDomain {
    final int domid;
    final PortTable ports;
    final StampedLock lock = new StampedLock();
    final PortCounters counters;

    EventDomain(int domid, PortTable ports, PortCounters.Switch counting) {
        this.domid = domid;
        this.ports = ports;
        this.counters = new PortCounters(ports.limit(), counting);
    }

    /** Makes a bound port pending, notifying {@code target} (a vCPU, or a host handle). */
    abstract void setPending(int port, int target);

    /** Raises a port that was just bound (the write lock is held). */
    void setPendingOnBind(int port, int target) {
        setPending(port, target);
    }

    /** Clears a port's pending state (on close). */
    abstract void clearPending(int port);

    /** Free ports that may not be allocated yet (FIFO: still linked in a queue), or null for none. */
    IntPredicate busyPorts() {
        return null;
    }

    /** Raises {@code port} if it is still connected to {@code fromDom}:{@code fromPort}. */
    final void raiseFrom(int port, int fromDom, int fromPort) {
        long stamp = lock.tryOptimisticRead();
        long e = ports.get(port);
        if (PortEntry.connectsTo(e, fromDom, fromPort)) {
            raiseChecked(port, e, stamp);
        }
    }

    /** Raises {@code port} if it is still bound as {@code type} with this VIRQ number (0 for an IPI). */
    final boolean raiseOwn(int port, int type, int virq) {
        long stamp = lock.tryOptimisticRead();
        long e = ports.get(port);
        if (!PortEntry.is(e, type, virq)) {
            return false;
        }
        raiseChecked(port, e, stamp);
        return true;
    }

    /** Raises a port in use, whatever it is bound to (a tool's inject); false if it is not in use. */
    final boolean inject(int port) {
        if (!ports.isValid(port)) {
            return false;
        }
        long stamp = lock.tryOptimisticRead();
        long e = ports.get(port);
        if (!PortEntry.isBound(e)) {
            return false;
        }
        raiseChecked(port, e, stamp);
        return true;
    }

    /** Events sent from {@code port} since it was bound. */
    public final long sentCount(int port) {
        return counters.sentCount(port);
    }

    /** Events raised on {@code port} since it was bound. */
    public final long raisedCount(int port) {
        return counters.raisedCount(port);
    }

    /** Raises {@code port}, bound as {@code e} when read under the optimistic {@code stamp}. */
    final void raiseChecked(int port, long e, long stamp) {
        counters.raised(port);
        setPending(port, PortEntry.vcpu(e));
        if (!lock.validate(stamp)) {
            recheck(port);
        }
    }

    /** A writer ran while we raised: if it closed the port, take back the bit we may have set after its clear. */
    private void recheck(int port) {
        long stamp = lock.readLock();
        try {
            long e = ports.get(port);
            if (!PortEntry.isBound(e)) {
                clearPending(port);
            } else {
                raisedDuringWrite(port, e);
            }
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Read lock held: a writer ran while {@code port}, still bound as {@code entry}, was raised. */
    void raisedDuringWrite(int port, long entry) {
    }

    /** Write lock held: {@code port}, bound as {@code entry}, is about to be freed (drop side tables). */
    void unbinding(int port, long entry) {
    }

    /** Writer only: the lowest port that may be allocated, or -1 when full. */
    final int freePort() {
        return ports.lowestFree(busyPorts());
    }

    /**
     * Writer only: binds a free port. Its pending state starts clear: a send that raced the
     * port's last close may have set it again after the close cleared it.
     */
    final void bindPort(int port, long entry) {
        clearPending(port);
        counters.reset(port);
        ports.allocate(port, newBinding(entry));
    }

    /** What a new binding's entry holds beyond the binding (the FIFO priority); the writer lock is held. */
    long newBinding(long entry) {
        return entry;
    }

    /** Writer only: frees a bound port; its pending state is cleared after it is marked free. */
    final void freePort(int port) {
        ports.free(port);
        clearPending(port);
    }
}
