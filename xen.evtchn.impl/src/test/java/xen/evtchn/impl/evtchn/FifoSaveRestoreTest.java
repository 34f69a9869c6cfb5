package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * A FIFO domain saved mid-use and restored on a fresh host: its queues (heads in guest memory,
 * tails here), priorities, control blocks and array pages, a masked pending event, and an event
 * raised before its page came all carry on, in the stream's FIFO record.
 */
class FifoSaveRestoreTest {
    @Test
    void queuesPrioritiesAndEarlyEventsCarryOn() {
        XenHost a = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        XenHost b = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        try (SoftwareBackend va = new SoftwareBackend(1, 2, EvtchnFixture.RAM, a.dispatcher());
                SoftwareBackend vb = new SoftwareBackend(1, 2, EvtchnFixture.RAM, b.dispatcher())) {
            GuestEventChannels d = a.createDomain(1, GuestWidth.X86_64, va, XenVersionInfo.DEFAULT, DomainConsole.inMemory()).events();
            FifoGuest f = new FifoGuest(d, va.memory()).start(2, 1);
            int p1 = d.bindIpi(0);
            int p2 = d.bindIpi(0);
            int p3 = d.bindIpi(0);
            int p4 = d.bindIpi(0);
            int p5 = d.bindIpi(1);
            int p6 = d.bindIpi(0);
            assertEquals(0, d.setPriority(p1, 5));
            assertEquals(0, d.setPriority(p2, 5));
            assertEquals(0, d.setPriority(p3, 2));
            assertEquals(0, d.setPriority(p6, 5));
            int beyond = 0;
            while (beyond < 1100) {
                beyond = d.bindIpi(0);
            }
            d.send(p1);
            d.send(p2);
            d.send(p3);
            f.mask(p4);
            d.send(p4);
            d.send(p5);
            d.send(beyond);

            byte[] stream = SaveStream.write(a.save(1));
            assertEquals(SaveStream.VERSION_RECORDS, stream[8], "format version 3 for every domain");
            assertNotNull(SaveStream.read(stream).events().domain().fifo(), "a FIFO record for a FIFO domain");
            assertTrue(a.destroyDomain(1));
            vb.memory().ram().copyFrom(va.memory().ram());
            GuestEventChannels r = b.restoreDomain(1, SaveStream.read(stream), vb, DomainConsole.inMemory()).events();
            FifoGuest g = new FifoGuest(r, vb.memory());
            g.pages = 1;

            assertTrue(r.isFifo());
            assertNull(r.selfCheck());
            assertEquals(0, r.send(p6));
            assertEquals(List.of(p3, p1, p2, p6), g.consume(0), "the saved tail of priority 5's queue took p6 behind it");
            assertEquals(List.of(p5), g.consume(1));
            assertTrue(r.isPending(p4) && r.isMasked(p4));
            assertEquals(0, r.unmask(p4));
            assertEquals(List.of(p4), g.consume(0));
            assertEquals(0, r.send(p1));
            assertEquals(0, r.send(p3));
            assertEquals(List.of(p3, p1), g.consume(0), "priorities came along");
            assertFalse(r.isPending(beyond));
            g.expand();
            assertEquals(List.of(beyond), g.consume(0), "raised before its page, at the save; delivered when it came");
        }
    }

    @Test
    void aDomainResetFromFifoKeepsItsValidPortsThroughAVersionOneStream() {
        XenHost a = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        XenHost b = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        try (SoftwareBackend va = new SoftwareBackend(1, 1, EvtchnFixture.RAM, a.dispatcher());
                SoftwareBackend vb = new SoftwareBackend(1, 1, EvtchnFixture.RAM, b.dispatcher())) {
            GuestEventChannels d = a.createDomain(1, GuestWidth.X86_64, va, XenVersionInfo.DEFAULT, DomainConsole.inMemory()).events();
            new FifoGuest(d, va.memory()).start(1, 0);
            for (int i = 0; i < 5000; i++) {
                d.bindIpi(0);
            }
            assertEquals(0, d.reset(DomId.SELF));
            int ipi = d.bindIpi(0);
            byte[] stream = SaveStream.write(a.save(1));
            assertNull(SaveStream.read(stream).events().domain().fifo(), "2-level again: no FIFO record");
            GuestEventChannels r = b.restoreDomain(1, SaveStream.read(stream), vb, DomainConsole.inMemory()).events();
            assertEquals(d.validPorts(), r.validPorts(), "valid once, valid still (XSA-338)");
            assertEquals(d.status(DomId.SELF, ipi), r.status(DomId.SELF, ipi));
            for (int port; (port = r.bindIpi(0)) > 0;) {
                assertTrue(port < 4096, "2-level allocation: " + port);
            }
            assertNull(r.selfCheck());
        }
    }
}
