package xen.evtchn.api.backend;

import java.util.concurrent.TimeUnit;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A backend's handle on host-side event channels, shaped like libxenevtchn. An event from the
 * guest queues the port once and leaves it masked until {@link #unmask}, as Linux's evtchn device
 * does; events that arrive while masked are delivered once more after the unmask.
 */
@ProviderType
public interface EvtchnHandle extends AutoCloseable {
    /** Binds a new host port to the guest's unbound {@code remotePort} of {@code domid}; returns the host port. */
    int bindInterdomain(int domid, int remotePort) throws EvtchnException;

    /** Closes a host port of this handle; the guest's end returns to unbound. */
    void unbind(int port) throws EvtchnException;

    /** Sends an event to the guest end of {@code port}. */
    void notify(int port) throws EvtchnException;

    /** The next port with an event, waiting up to {@code timeout}; -1 if none came in time. */
    int pending(long timeout, TimeUnit unit) throws InterruptedException;

    /** The next port with an event, or -1 at once if none. */
    int pending();

    /** Re-enables delivery for {@code port} after it was returned by {@link #pending}. */
    void unmask(int port) throws EvtchnException;

    /** The guest domain and port that {@code port} is connected to, or null if it is unbound. */
    Peer peer(int port) throws EvtchnException;

    /** Unbinds every port of this handle (also of a named one: its name is free afterwards). */
    @Override
    void close();

    /**
     * This handle's name and ports ({@link EvtchnHost#open(String)}); an anonymous handle's name
     * is empty.
     */
    BackendState state();

    /**
     * Hands the ports over instead of closing them: they stay bound and events for them are kept,
     * under the handle's name, until {@link EvtchnHost#open(String)} of that name takes them
     * over. This handle is closed afterwards (its methods fail or return -1). An anonymous handle
     * cannot be detached: IllegalStateException.
     *
     * @return what was parked
     */
    BackendState detach();

    /** The far end of a host port. */
    record Peer(int domid, int port) {
    }
}
