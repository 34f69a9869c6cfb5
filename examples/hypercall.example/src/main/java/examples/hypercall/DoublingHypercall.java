package examples.hypercall;

import org.osgi.service.component.annotations.Component;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;

/**
 * Hypercall {@value #NUMBER} (__HYPERVISOR_arch_0, which Xen leaves to the architecture and this
 * host to bundles): returns its first argument doubled, so a caller can tell it ran. It lives
 * while its bundle is active; after that the host answers -ENOSYS again.
 */
@Component(property = HypercallHandler.NUMBER_PROPERTY + ":Integer=" + DoublingHypercall.NUMBER)
public final class DoublingHypercall implements HypercallHandler {
    public static final int NUMBER = 48;

    @Override
    public long hypercall(HypercallContext call) {
        return call.arg(0) * 2;
    }
}
