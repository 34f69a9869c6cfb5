package xen.evtchn.api.backend;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Event channels for backends that live in the host (xenevtchn_open). A host-side backend owns
 * ports in {@link xen.evtchn.api.abi.DomId#HOST}'s table and connects them to guest ports that the
 * guest offered with {@code alloc_unbound(remote_dom = 0)}. The host registers it as a service.
 */
@ProviderType
public interface EvtchnHost {
    /** A new anonymous handle with no ports; closing it unbinds them. */
    EvtchnHandle open();

    /**
     * The handle named {@code name}: the ports parked under that name by
     * {@link EvtchnHandle#detach()}, with the events that arrived since (reported by
     * {@link EvtchnHandle#pending()} as if they had just come), or a new handle with no ports.
     *
     * @throws IllegalArgumentException if the name is empty or longer than {@value #MAX_NAME} characters
     * @throws IllegalStateException    if a handle of that name is open
     */
    EvtchnHandle open(String name);

    /** Longest handle name, in characters. */
    int MAX_NAME = 128;

    /** Every named handle, open or parked, and its ports, by name. */
    List<BackendState> backends();

    /** Whether the named handle is parked (detached, waiting for its next owner) rather than open. */
    boolean isParked(String name);
}
