package xen.evtchn.api.backend;

import java.util.List;
import java.util.Objects;

/**
 * What a host-side backend's handle holds, as values: its name and its bound ports. This is the
 * one contract a backend is handed over by, from one instance (or bundle revision) to the next:
 * {@link EvtchnHandle#detach()} parks the ports under the name, with every event that arrives
 * meanwhile kept, and {@link EvtchnHost#open(String)} with the same name takes them over.
 * Save/restore writes the same record.
 *
 * @param name     the handle's name, unique among the host's named handles
 * @param bindings its bound ports, in port order
 */
public record BackendState(String name, List<Binding> bindings) {
    public BackendState {
        Objects.requireNonNull(name, "name");
        bindings = List.copyOf(bindings);
    }

    /** The binding of {@code domid}'s port {@code remotePort}, or null if this handle has none. */
    public Binding binding(int domid, int remotePort) {
        for (Binding b : bindings) {
            if (b.domid() == domid && b.remotePort() == remotePort) {
                return b;
            }
        }
        return null;
    }

    /**
     * One bound host port.
     *
     * @param port       the host port
     * @param domid      the guest domain at its far end
     * @param remotePort the guest's port
     */
    public record Binding(int port, int domid, int remotePort) {
    }
}
