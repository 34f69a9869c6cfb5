package xen.evtchn.impl.host;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.GuestHost;

/**
 * The {@link DomainListener} whiteboard: every listener service is handed to the host while it is
 * registered. A component of its own because a listener (a backend) needs the host's services: if
 * the host component referenced the listeners itself, each would be part of a cycle.
 */
@Component(immediate = true)
public final class DomainListeners {
    private final HostComponent host;

    @Activate
    public DomainListeners(@Reference(target = "(component.name=xen.evtchn.impl.host.HostComponent)") GuestHost host) {
        this.host = (HostComponent) host;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void add(DomainListener listener) {
        host.addListener(listener);
    }

    void remove(DomainListener listener) {
        host.removeListener(listener);
    }
}
