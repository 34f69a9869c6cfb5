package xen.evtchn.impl.hypercall;

import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;

/**
 * The {@link DomainPlatform} of every guest domain by domid, which every hypercall family other
 * than event_channel_op looks up with one array read.
 */
public final class Platforms {
    private final AtomicReferenceArray<DomainPlatform> byId = new AtomicReferenceArray<>(DomId.FIRST_RESERVED);

    /** A platform for {@code domain}; throws IllegalStateException if its domid has one already. */
    public DomainPlatform create(GuestEventChannels domain, XenVersionInfo version, DomainConsole console, DomainTime time) {
        DomainPlatform p = new DomainPlatform(domain, version, console, time);
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
    public DomainPlatform get(int domid) {
        return DomId.isReal(domid) ? byId.get(domid) : null;
    }
}
