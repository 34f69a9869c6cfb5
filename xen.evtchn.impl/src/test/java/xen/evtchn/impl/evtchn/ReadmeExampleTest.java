package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.hypercall.EventChannelOpHandler;

/** The example of README.md, kept compiling and true. */
class ReadmeExampleTest {
    @Test
    void theReadmeExampleWorksAsItSays() throws Exception {
        Domains domains = new Domains();
        try (SoftwareBackend vcpus = new SoftwareBackend(1, 2, 16 << 20, new EventChannelOpHandler(domains))) {
            GuestEventChannels guest = domains.create(1, GuestWidth.X86_64, vcpus);
            guest.mapSharedInfo(0x10);
            guest.upcalls().setCallback(new UpcallRoute.Vector(0xf3));

            int ipi = guest.bindIpi(1);
            assertEquals(0, guest.send(ipi));
            assertTrue(guest.isPending(ipi));
            assertEquals(1, vcpus.vcpu(1).upcallsDelivered(), "the upcall went to vCPU 1");

            int offered = guest.allocUnbound(DomId.SELF, DomId.HOST);
            try (EvtchnHandle backend = domains.host().open()) {
                int port = backend.bindInterdomain(1, offered);
                assertEquals(port, backend.pending(1, TimeUnit.SECONDS), "binding raises the new end, as Xen");
                backend.unmask(port);
                backend.notify(port);
                assertTrue(guest.isPending(offered));
                assertEquals(0, guest.send(offered));
                assertEquals(port, backend.pending(1, TimeUnit.SECONDS));
            }
        }
    }
}
