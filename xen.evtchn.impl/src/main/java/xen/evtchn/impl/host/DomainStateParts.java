package xen.evtchn.impl.host;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.GuestHost;

/**
 * The {@link DomainStatePart} whiteboard: every part service is handed to the host while it is
 * registered. A component of its own for the reason {@link DomainListeners} is: a part (the
 * XenStore) needs the host's services. A part of a name already taken is refused with a message.
 */
@Component(immediate = true)
public final class DomainStateParts {
    private final HostComponent host;

    @Activate
    public DomainStateParts(@Reference(target = "(component.name=xen.evtchn.impl.host.HostComponent)") GuestHost host) {
        this.host = (HostComponent) host;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void add(DomainStatePart part) {
        try {
            host.addPart(part);
        } catch (RuntimeException e) {
            System.err.println("xen host: state part refused: " + e.getMessage());
        }
    }

    void remove(DomainStatePart part) {
        host.removePart(part);
    }
}
