package xen.evtchn.impl.evtchn;

import java.util.List;
import java.util.Objects;

/**
 * What a save takes from a host's event channels for one guest: the domain's own state and the
 * named host backends' bindings to it.
 */
public record DomainEventsImage(EventChannelImage domain, List<BackendImage> backends) {
    public DomainEventsImage {
        Objects.requireNonNull(domain, "domain");
        backends = List.copyOf(backends);
    }
}
