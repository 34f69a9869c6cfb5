package xen.evtchn.impl.domain;

import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;

/**
 * The {@link Domain} of every guest domain by domid, which every hypercall family other
 * than event_channel_op looks up with one array read.
 */
public final class DomainTable {
    private final AtomicReferenceArray<Domain> byId = new AtomicReferenceArray<>(DomId.FIRST_RESERVED);

    /** A platform for {@code domain}; throws IllegalStateException if its domid has one already. */
    public Domain create(GuestEventChannels domain, XenVersionInfo version, DomainConsole console, DomainTime time) {
        Domain p = new Domain(domain, version, console, time);
        if (!byId.compareAndSet(domain.domid(), null, p)) {
            throw new IllegalStateException("dom" + domain.domid() + " already has a platform: " + byId.get(domain.domid()));
        }
        return p;
    }

    /** Removes domain {@code domid}'s platform; false if it had none. */
    public boolean remove(int domid) {
        return DomId.isReal(domid) && byId.getAndSet(domid, null) != null;
    }

    /** Domain {@code domid}'s platform, or null. */
    public Domain get(int domid) {
        return DomId.isReal(domid) ? byId.get(domid) : null;
    }
}
