package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/** Creating and destroying guest domains, and what their peers see. */
class DomainsTest {
    private final Domains domains = new Domains();
    private final SoftwareBackend vcpus = new SoftwareBackend(1, 1, 1 << 20, call -> 0);

    @AfterEach
    void close() {
        vcpus.close();
    }

    @Test
    void badDomidsAreRefusedWithAMessage() {
        for (int domid : new int[] {0, -1, DomId.SELF, 0xFFFF}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> domains.create(domid, GuestWidth.X86_64, vcpus));
            assertTrue(e.getMessage().contains(Integer.toString(domid)), e.getMessage());
        }
        domains.create(5, GuestWidth.X86_64, vcpus);
        IllegalStateException twice = assertThrows(IllegalStateException.class,
                () -> domains.create(5, GuestWidth.X86_32, vcpus));
        assertTrue(twice.getMessage().contains("5"), twice.getMessage());
    }

    @Test
    void destroyingADomainReturnsItsPeersToUnboundAndFreesItsId() {
        GuestEventChannels a = domains.create(1, GuestWidth.X86_64, vcpus);
        GuestEventChannels b = domains.create(2, GuestWidth.X86_64, vcpus);
        int offered = a.allocUnbound(DomId.SELF, 2);
        int bPort = b.bindInterdomain(1, offered);
        assertTrue(bPort > 0);

        assertTrue(domains.destroy(2));
        assertNull(domains.guest(2));
        PortStatus st = a.status(DomId.SELF, offered);
        assertEquals(EvtchnStat.UNBOUND, st.status(), "the survivor's end is unbound again");
        assertEquals(2, st.remoteDom(), "offered to the domain that closed it");
        assertEquals(0, a.send(offered), "a send on it is dropped, as on any unbound port");
        assertFalse(domains.destroy(2), "a second destroy finds nothing");

        GuestEventChannels again = domains.create(2, GuestWidth.X86_32, vcpus);
        assertEquals(1024, again.portLimit(), "the id can be used again");
    }
}
