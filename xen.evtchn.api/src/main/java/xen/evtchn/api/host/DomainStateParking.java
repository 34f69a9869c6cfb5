package xen.evtchn.api.host;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Where a {@link DomainStatePart}'s state waits while its bundle is updated or stopped: the host
 * keeps named states per domain, and a save of a domain meanwhile carries the parked state as the
 * part's record, so that the bundle's absence loses nothing. A domain's parked states go when the
 * domain is destroyed. Domain 0 (the host) has parked states too, for a part's state that belongs
 * to no guest; those are never in a save stream and stay until taken.
 *
 * @since 1.6
 */
@ProviderType
public interface DomainStateParking {
    /**
     * Parks {@code state} for {@code domid} under {@code part} (a {@link DomainStatePart#name()}),
     * replacing what was parked there; {@code mandatory} as {@link DomainStatePart#mandatory()}
     * says for the save stream. A domid that is neither 0 nor a domain of this host is ignored.
     */
    void park(int domid, String part, boolean mandatory, byte[] state);

    /** Takes (removes and returns) the state parked for {@code domid} under {@code part}; null if there is none. */
    byte[] take(int domid, String part);
}
