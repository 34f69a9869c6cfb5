package xen.evtchn.api.host;

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
    DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines);

    /**
     * Destroys domain {@code domid}: stops its timers and removes it; ports of other domains bound
     * to it return to unbound. Stop its vCPUs first. False if there was no such domain.
     */
    boolean destroyDomain(int domid);
}
