package xen.evtchn.impl.evtchn;

import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSPC;
import static xen.evtchn.api.abi.Errno.ESRCH;

import xen.evtchn.impl.port.PortEntry;

/**
 * Binding and closing, which may touch two domains' tables: both write locks are taken, the lower
 * domid first, so two domains closing toward each other cannot deadlock.
 */
final class Interdomain {
    private Interdomain() {
    }

    /**
     * {@code local} binds a new port to {@code remote}'s unbound port offered to it. Returns the
     * new port, notifying {@code target}, or a negated errno in Xen's order: -ENOSPC before the
     * checks of the remote port.
     */
    static int bind(EventDomain local, EventDomain remote, int remotePort, int target) {
        if (remote == null) {
            return -ESRCH;
        }
        long[] stamps = lock(local, remote);
        try {
            int port = local.freePort();
            if (port < 0) {
                return -ENOSPC;
            }
            if (!remote.ports.isValid(remotePort)) {
                return -EINVAL;
            }
            long r = remote.ports.get(remotePort);
            if (PortEntry.type(r) != PortEntry.UNBOUND || PortEntry.remoteDom(r) != local.domid) {
                return -EINVAL;
            }
            local.bindPort(port, PortEntry.interdomain(target, remote.domid, remotePort));
            remote.ports.set(remotePort, PortEntry.rebound(r, PortEntry.interdomain(PortEntry.vcpu(r), local.domid, port)));
            // Xen marks the new end pending: sends to the unbound port were dropped, so the guest rechecks.
            local.setPendingOnBind(port, target);
            return port;
        } finally {
            unlock(local, remote, stamps);
        }
    }

    /**
     * Closes a valid port of {@code d}: an interdomain peer returns to unbound, offered to {@code d}.
     * {@code peers} finds the peer domain (null if it is gone). Returns 0 or -EINVAL for a port
     * that is not bound.
     */
    static int close(EventDomain d, int port, Domains peers) {
        for (;;) {
            long seen = d.ports.get(port);
            EventDomain peer = PortEntry.type(seen) == PortEntry.INTERDOMAIN ? peers.get(PortEntry.remoteDom(seen)) : null;
            long[] stamps = lock(d, peer);
            try {
                long e = d.ports.get(port);
                if (e != seen) {
                    continue; // rebound while we took the locks: look again
                }
                if (!PortEntry.isBound(e)) {
                    return -EINVAL;
                }
                d.unbinding(port, e);
                d.freePort(port);
                if (peer != null) {
                    int remotePort = PortEntry.remotePort(e);
                    long r = peer.ports.get(remotePort);
                    if (PortEntry.connectsTo(r, d.domid, port)) {
                        peer.ports.set(remotePort, PortEntry.rebound(r, PortEntry.unbound(PortEntry.vcpu(r), d.domid)));
                    }
                }
                return 0;
            } finally {
                unlock(d, peer, stamps);
            }
        }
    }

    private static long[] lock(EventDomain a, EventDomain b) {
        if (b == null || b == a) {
            return new long[] {a.lock.writeLock(), 0};
        }
        EventDomain first = a.domid < b.domid ? a : b;
        EventDomain second = first == a ? b : a;
        long s1 = first.lock.writeLock();
        long s2 = second.lock.writeLock();
        return first == a ? new long[] {s1, s2} : new long[] {s2, s1};
    }

    private static void unlock(EventDomain a, EventDomain b, long[] stamps) {
        a.lock.unlockWrite(stamps[0]);
        if (b != null && b != a) {
            b.lock.unlockWrite(stamps[1]);
        }
    }
}
