package xen.evtchn.api.host;

import java.util.List;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ProviderType;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.VcpuBackend;

/**
 * A host that runs Xen guest domains: its hypercall handlers, and domains made whole on a vCPU
 * backend (event channels, platform state, clock, timers, console). A guest booter creates the
 * backend with {@link #hypercalls()}, then the domain, then starts its guest code.
 */
@ProviderType
public interface GuestHost {
    /**
     * The host's hypercall handler: every hypercall family, for every domain of this host. Give it
     * to the vCPU backend, which passes each hypercall its guest makes.
     */
    HypercallHandler hypercalls();

    /**
     * Creates guest domain {@code domid} (a 64-bit HVM guest) on {@code vcpus}: its system time
     * starts now and every vCPU's vcpu_time_info is written before the guest runs.
     *
     * @param consoleLines gets the guest's CONSOLEIO_write output one line at a time, without the
     *                     newline, rate limited and reduced to printable ASCII and tabs; a line too
     *                     long for the host is passed in pieces. Called on the writing vCPU's
     *                     thread: it must not block for long.
     * @return the domain's handle
     * @throws IllegalArgumentException if {@code domid} is not a guest domain id
     * @throws IllegalStateException    if domain {@code domid} exists
     */
    default DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines) {
        return createDomain(domid, vcpus, consoleLines, null);
    }

    /**
     * {@link #createDomain(int, VcpuBackend, Consumer)} for a guest that is to see Xen
     * {@code xenVersion} ("major.minor", e.g. "4.17"; null for the host's default, {@value #DEFAULT_XEN_VERSION}).
     *
     * @throws IllegalArgumentException also for a version that is not major.minor within
     *                                  XENVER_version's range (major 0..32767, minor 0..65535)
     */
    DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines, String xenVersion);

    /**
     * Restores a domain saved with {@link DomainHandle#save()} as guest {@code domid} on
     * {@code vcpus}, whose guest memory holds the saved guest's: the guest carries on where it was
     * saved, with its system time going on from the saved one and every armed timer keeping its
     * distance. Channels to named host backends are bound again to handles of the same names (a
     * name not open here is parked until a backend opens it); a channel whose peer is not here
     * comes back unbound, offered to that peer.
     *
     * @throws SaveStreamException      if the stream is not one this host reads (truncated, corrupted, another
     *                                  format version, inconsistent) or does not fit {@code vcpus}; nothing is made
     * @throws IllegalStateException    if domain {@code domid} exists or this host has no room for the
     *                                  backends' bindings; nothing is left behind
     * @throws IllegalArgumentException if {@code domid} is not a guest domain id
     * @since 1.2
     */
    DomainHandle restoreDomain(int domid, byte[] stream, VcpuBackend vcpus, Consumer<String> consoleLines);

    /**
     * Whether the host counts events per port ({@link PortInfo#sent()}, {@link PortInfo#raised()}):
     * off unless its configuration turns it on, since counting costs heap per port.
     */
    boolean countsEvents();

    /** The Xen version guests see unless their domain says otherwise. */
    String DEFAULT_XEN_VERSION = "4.17";

    /**
     * Destroys domain {@code domid}: stops its timers and removes it; ports of other domains bound
     * to it return to unbound. Stop its vCPUs first. False if there was no such domain.
     */
    boolean destroyDomain(int domid);

    /** The domains of this host, by domid. */
    List<DomainHandle> domains();

    /** Domain {@code domid}, or null if there is none. */
    DomainHandle domain(int domid);

    /**
     * The timer provider the host's timers run on now, as a line for people: its name and ranking
     * (from its service properties), or that there is none and armed timers are parked until one
     * comes.
     */
    String timerProvider();
}
