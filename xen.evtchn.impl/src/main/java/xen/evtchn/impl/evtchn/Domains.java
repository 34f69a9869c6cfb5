package xen.evtchn.impl.evtchn;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.impl.port.PortCounters;

/**
 * The event channel layer's owners of ports by domid: guests' event channels, and the host's
 * backends as domain {@link DomId#HOST}. Interdomain channels find their peers here with one array
 * read; a domain can reach another's ports only through a channel both sides agreed to. The host
 * makes and destroys a guest's entry with its {@code domain.Domain} (XenHost).
 */
public final class Domains {
    /** Ports the host's backends may hold, across all guests. */
    public static final int HOST_PORTS = 4096;

    private final AtomicReferenceArray<EventDomain> byId = new AtomicReferenceArray<>(DomId.FIRST_RESERVED);
    final PortCounters.Switch counting = new PortCounters.Switch();
    private final HostBackends host;

    public Domains() {
        host = new HostBackends(this, HOST_PORTS);
        byId.set(DomId.HOST, host);
    }

    /** Creates guest domain {@code domid} (1 .. 0x7FEF) whose vCPUs and memory {@code vcpus} provides. */
    public GuestEventChannels create(int domid, GuestWidth width, VcpuBackend vcpus) {
        if (domid <= DomId.HOST || domid >= DomId.FIRST_RESERVED) {
            throw new IllegalArgumentException("a guest domid must be between 1 and "
                    + (DomId.FIRST_RESERVED - 1) + ", not " + domid);
        }
        if (vcpus.vcpuCount() < 1 || vcpus.vcpuCount() > 0xFFFF) {
            throw new IllegalArgumentException("a domain needs 1 to 65535 vCPUs, not " + vcpus.vcpuCount());
        }
        GuestEventChannels d = new GuestEventChannels(domid, width, vcpus, this);
        if (!byId.compareAndSet(domid, null, d)) {
            throw new IllegalStateException("domain " + domid + " already exists");
        }
        return d;
    }

    /**
     * Removes a guest domain: its ports are closed first, so its peers' ends return to unbound.
     * Returns false if there was no such guest.
     */
    public boolean destroy(int domid) {
        GuestEventChannels d = guest(domid);
        if (d == null) {
            return false;
        }
        d.dying();
        d.closeAll();
        byId.compareAndSet(domid, d, null);
        return true;
    }

    /** The guest domain {@code domid}, or null. */
    public GuestEventChannels guest(int domid) {
        return get(domid) instanceof GuestEventChannels g ? g : null;
    }

    /**
     * Whether every domain counts events per port (sent, raised) for tools; off by default, since
     * counting costs 16 bytes of heap for each port in a block of 64 that carried an event.
     */
    public void countEvents(boolean on) {
        counting.on = on;
    }

    public boolean countsEvents() {
        return counting.on;
    }

    /** The guest domains' ids, ascending (a snapshot). */
    public int[] domids() {
        int[] ids = new int[16];
        int n = 0;
        for (int id = DomId.HOST + 1; id < DomId.FIRST_RESERVED; id++) {
            if (byId.get(id) instanceof GuestEventChannels) {
                if (n == ids.length) {
                    ids = Arrays.copyOf(ids, n * 2);
                }
                ids[n++] = id;
            }
        }
        return Arrays.copyOf(ids, n);
    }

    /** Event channels for backends that live in the host. */
    public EvtchnHost host() {
        return host;
    }

    HostBackends backends() {
        return host;
    }

    /**
     * Guest {@code domid}'s event channel state and the named backends' bindings to it, for a
     * save. Null if there is no such guest.
     */
    public DomainEventsImage save(int domid) {
        GuestEventChannels d = guest(domid);
        return d == null ? null : new DomainEventsImage(EventChannelImages.take(d), host.savedBackends(domid));
    }

    /**
     * Puts saved state into {@code fresh}, a guest domain just created here without ports (see
     * {@link DomainRestore}). Throws IllegalStateException, changing nothing, if this host cannot
     * take the backends' bindings.
     */
    public void restore(GuestEventChannels fresh, int savedDomid, DomainEventsImage saved) {
        DomainRestore.apply(this, fresh, savedDomid, saved);
    }

    /** Any domain by id, or null (also for reserved ids). */
    EventDomain get(int domid) {
        return DomId.isReal(domid) ? byId.get(domid) : null;
    }
}
