package xen.evtchn.api.host;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A bundle's part of a domain's save stream: state the bundle keeps for the domain outside the
 * hypervisor (XenStore's nodes and watches, a device model's state), as libxl's toolstack records
 * and xenstored's migration records add to libxc's stream. A whiteboard: register it as a service
 * and every {@link DomainHandle#save()} carries one record of it for each domain it has state for,
 * under its {@link #name()}; {@link GuestHost#restoreDomain} gives the record back to the part of
 * that name on the restoring host.
 * <p>
 * A stream is untrusted input: {@link #prepare} checks everything before anything is applied.
 * A restore whose stream has a record of a {@linkplain #mandatory() mandatory} part that no
 * registered part has the name of is refused; an optional one is skipped.
 *
 * @since 1.6
 */
@ConsumerType
public interface DomainStatePart {
    /** Longest {@link #name()}. */
    int MAX_NAME = 128;

    /**
     * The part's name in the stream: 1 to {@value #MAX_NAME} characters of letters, digits and
     * {@code . _ -}; one part a name.
     */
    String name();

    /**
     * Whether a domain cannot be restored without this part's record (a host without a part of
     * this name refuses the stream), rather than carrying on without it.
     */
    boolean mandatory();

    /**
     * The domain's state as bytes, or null if the part keeps none for it. Called by
     * {@link DomainHandle#save()} once the domain's timers have stopped, its vCPUs paused, and
     * before the hypervisor's state (ports, grant table) is taken: the part may finish what it
     * had begun (a device backend answers the requests it took, notifies, unmaps), but once this
     * returns it must not change what the guest can see of it (guest memory, ports), as the
     * bytes and the guest's memory are to agree at a restore.
     */
    byte[] save(int domid);

    /**
     * Checks {@code state} (written by {@link #save} on this or another host, for a domain then
     * numbered {@code savedDomid}) for a domain to be restored as {@code domid}, and returns what
     * applies it. Called before the domain exists; nothing may change yet.
     *
     * @throws SaveStreamException if the state is not one this part can restore (the restore is then refused, nothing made)
     */
    Restore prepare(int domid, int savedDomid, byte[] state);

    /** A checked state, ready to apply. */
    @FunctionalInterface
    interface Restore {
        /**
         * Applies the state: the domain exists, its guest has not run yet, and the
         * {@link DomainListener}s have not heard of it yet. Must not fail for a state that
         * {@link #prepare} accepted.
         */
        void apply();
    }
}
