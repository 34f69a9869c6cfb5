package xen.evtchn.impl.evtchn;

import java.util.List;
import xen.evtchn.api.backend.BackendState;

/**
 * A named host backend's bindings to one saved domain: its {@link BackendState} (the record a
 * handover carries) limited to that domain, and the host ports among them that had an event the
 * backend had not yet dealt with (queued, or taken and not unmasked), which a restore raises again.
 */
public record BackendImage(BackendState state, List<Integer> pendingPorts) {
    public BackendImage {
        pendingPorts = List.copyOf(pendingPorts);
    }
}
