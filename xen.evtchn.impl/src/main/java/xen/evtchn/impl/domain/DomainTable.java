package xen.evtchn.impl.domain;

import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;

/**
 * Every guest {@link Domain} by domid: the one table of domains, which the hypercall families and
 * the toolstack read with one array read (the event channels keep their own index of port owners,
 * {@code evtchn.Domains}, for interdomain peers).
 */
public final class DomainTable {
    private final AtomicReferenceArray<Domain> byId = new AtomicReferenceArray<>(DomId.FIRST_RESERVED);

    /** The domain around {@code events}; throws IllegalStateException if its domid is taken. */
    public Domain create(GuestEventChannels events, XenVersionInfo version, DomainConsole console, DomainTime time) {
        Domain d = new Domain(events, version, console, time);
        if (!byId.compareAndSet(events.domid(), null, d)) {
            throw new IllegalStateException("dom" + events.domid() + " already exists: " + byId.get(events.domid()));
        }
        return d;
    }

    /** Removes domain {@code domid}; false if there was none. */
    public boolean remove(int domid) {
        return DomId.isReal(domid) && byId.getAndSet(domid, null) != null;
    }

    /** Domain {@code domid}, or null. */
    public Domain get(int domid) {
        return DomId.isReal(domid) ? byId.get(domid) : null;
    }
}
