package xen.bus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.bus.core.BusComponentTest.TYPE;
import static xen.bus.core.BusComponentTest.U32;
import static xen.bus.core.BusComponentTest.device;
import static xen.bus.core.BusComponentTest.roundTrip;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.bus.testing.BusHost;
import xen.bus.testing.GuestDomain;
import xen.bus.testing.GuestFrontend;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceStatus;

/**
 * Backends coming and going under connected devices: the one leaving hands each device over, its
 * port parked with the events that come meanwhile, and the next connects resumed; the best ranked
 * backend serves; a new bus adopts the devices of the one before.
 */
class HandOverTest {
    static final String HANDLE = "xenbus-ring-1-5";
    final BusHost bus = new BusHost();

    @AfterEach
    void tearDown() {
        bus.close();
    }

    /** A request the guest makes while no backend serves: counted and notified, not answered yet. */
    static int requestInTheGap(GuestDomain guest, GuestFrontend.Ring ring) {
        int n = ring.page().get(U32, RingBackend.REQ_PROD) + 1;
        ring.page().set(U32, RingBackend.REQ_PROD, n);
        guest.notify(ring.port());
        return n;
    }

    @Test
    void aBackendLeavingHandsOverAndTheNextResumesWithTheEventsOfTheGap() {
        GuestDomain guest = bus.domain(1);
        RingBackend a = new RingBackend("a", TYPE);
        BusHost.Registration registration = bus.register(a, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        GuestFrontend.Ring ring = fe.connect(Map.of());
        roundTrip(guest, ring);

        registration.close(); // a's bundle stops
        assertEquals(List.of("probe 5", "connect 5", "handOver 5"), a.calls);
        assertTrue(bus.host().isParked(HANDLE), "the port is parked for the next backend");
        assertEquals(List.of(new DeviceStatus(1, TYPE, 5, XenbusState.CONNECTED, XenbusState.CONNECTED, false, null)),
                bus.bus().devices(), "the states stay Connected: the guest sees nothing");
        int n = requestInTheGap(guest, ring);

        RingBackend b = new RingBackend("b", TYPE);
        bus.register(b, 0);
        // b answers on events only: the answer comes from the event sent in the gap, kept while parked
        BusHost.waitFor(() -> ring.page().get(U32, RingBackend.RSP_PROD) == n, "the answer to the gap's request");
        guest.awaitEvent(ring.port());
        assertEquals(List.of("probe 5", "connect 5 resumed"), b.calls);
        assertEquals("b", fe.readBackend("served-by"));
        assertFalse(bus.host().isParked(HANDLE));
        assertEquals(XenbusState.CONNECTED, fe.backendState());
        roundTrip(guest, ring);
        fe.close();
        assertEquals("disconnect 5", b.calls.get(2));
        assertEquals(List.of(), bus.log());
    }

    @Test
    void theBestRankedBackendServesAndABetterOneTakesOver() {
        GuestDomain guest = bus.domain(1);
        RingBackend low = new RingBackend("low", TYPE);
        RingBackend high = new RingBackend("high", TYPE);
        RingBackend middle = new RingBackend("middle", TYPE);
        bus.register(low, 1);
        BusHost.Registration highRegistration = bus.register(high, 10);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        GuestFrontend.Ring ring = fe.connect(Map.of());
        roundTrip(guest, ring);
        assertEquals("high", fe.readBackend("served-by"));
        assertEquals(List.of(), low.calls, "a backend ranked lower waits");

        bus.register(middle, 5); // still below high: nothing changes
        roundTrip(guest, ring);
        assertEquals(List.of(), middle.calls);

        highRegistration.close(); // the best of the others takes over
        roundTrip(guest, ring);
        assertEquals(List.of("probe 5", "connect 5", "handOver 5"), high.calls);
        assertEquals(List.of("probe 5", "connect 5 resumed"), middle.calls);
        assertEquals(List.of(), low.calls);

        RingBackend best = new RingBackend("best", TYPE);
        bus.register(best, 20); // a better one comes: middle hands over to it
        roundTrip(guest, ring);
        assertEquals(List.of("probe 5", "connect 5 resumed", "handOver 5"), middle.calls);
        assertEquals(List.of("probe 5", "connect 5 resumed"), best.calls);
        assertEquals("best", fe.readBackend("served-by"));

        RingBackend twin = new RingBackend("twin", TYPE);
        bus.register(twin, 20); // equal ranking: the older service keeps the type
        roundTrip(guest, ring);
        assertEquals(List.of(), twin.calls);
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aFrontendThatClosesWhileNoBackendServesHasItsParkedPortClosed() {
        GuestDomain guest = bus.domain(1);
        BusHost.Registration registration = bus.register(new RingBackend("a", TYPE), 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        fe.connect(Map.of());
        registration.close();
        assertTrue(bus.host().isParked(HANDLE));
        fe.close(); // the bus closes the device itself
        BusHost.waitFor(() -> bus.host().backends().stream().noneMatch(s -> s.name().equals(HANDLE)), "the parked port closed");
        RingBackend b = new RingBackend("b", TYPE);
        bus.register(b, 0);
        assertEquals(List.of(), b.calls, "a closed device waits for its frontend to start over");
        fe.switchState(XenbusState.INITIALISING);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        roundTrip(guest, fe.publishRing());
        assertEquals(List.of("probe 5", "connect 5"), b.calls);
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aNewBusAdoptsTheDevicesAndTheBackendResumes() {
        GuestDomain guest = bus.domain(1);
        RingBackend a = new RingBackend("a", TYPE);
        bus.register(a, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        GuestFrontend.Ring ring = fe.connect(Map.of());
        roundTrip(guest, ring);

        bus.restartBus(); // xen.bus is updated: connected devices handed over, then adopted
        assertEquals(List.of("probe 5", "connect 5", "handOver 5"), a.calls);
        int n = requestInTheGap(guest, ring);
        BusHost.waitFor(() -> bus.bus().devices().size() == 1, "the device adopted");
        RingBackend b = new RingBackend("b", TYPE);
        bus.register(b, 0);
        BusHost.waitFor(() -> ring.page().get(U32, RingBackend.RSP_PROD) == n, "the answer to the gap's request");
        assertEquals(List.of("probe 5", "connect 5 resumed"), b.calls);
        roundTrip(guest, ring);
        assertTrue(bus.log().stream().allMatch(l -> l.equals("xen.bus: dom1 ring 5: adopted in state Connected")), bus.log()::toString);
    }

    @Test
    void aBackendDirectoryRemovedUnderTheBusUnplugsTheDevice() {
        GuestDomain guest = bus.domain(1);
        RingBackend a = new RingBackend("a", TYPE);
        bus.register(a, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        fe.connect(Map.of());
        bus.store().rm("/local/domain/0/backend/ring/1/5");
        BusHost.waitFor(() -> bus.bus().devices().isEmpty(), "the device forgotten");
        assertEquals(List.of("probe 5", "connect 5", "disconnect 5"), a.calls);
        assertFalse(bus.host().backends().stream().anyMatch(s -> s.name().equals(HANDLE)));
        assertEquals(List.of(), bus.log());
    }
}
