package xen.bus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.bus.testing.BusHost;
import xen.bus.testing.GuestDomain;
import xen.bus.testing.GuestFrontend;
import xen.bus.testing.GuestStore;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.DeviceStatus;
import xen.evtchn.api.store.XenStoreException;

/**
 * The bus against a real host on software vCPUs and a real XenStore, the guest's frontend played
 * through its own XenStore ring, grant table and event channels ({@link BusHost}), served by a
 * {@link RingBackend}.
 */
class BusComponentTest {
    static final String TYPE = "ring";
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    final BusHost bus = new BusHost();

    @AfterEach
    void tearDown() {
        bus.close();
    }

    static DeviceNodes device(int domid, int devid) {
        return new DeviceNodes(domid, TYPE, devid, Map.of("params", "p" + devid), Map.of("virtual-device", Integer.toString(devid)));
    }

    /** One request through the ring: the guest counts it and raises its port; the backend's answer comes back. */
    static void roundTrip(GuestDomain guest, GuestFrontend.Ring ring) {
        int n = ring.page().get(U32, RingBackend.REQ_PROD) + 1;
        ring.page().set(U32, RingBackend.REQ_PROD, n);
        guest.notify(ring.port());
        BusHost.waitFor(() -> ring.page().get(U32, RingBackend.RSP_PROD) == n, "the answer to request " + n);
        guest.awaitEvent(ring.port());
    }

    @Test
    void aDeviceGoesThroughEveryStateToConnectedAndServesItsRing() {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        assertEquals("/local/domain/0/backend/ring/1/5", fe.backendPath());
        assertEquals("0", fe.read("backend-id"));
        assertEquals("5", fe.read("virtual-device"));
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        assertEquals("1", fe.readBackend("feature-ring"), "published at probe, readable by the guest");
        assertEquals("p5", fe.readBackend("params"));
        assertEquals("1", fe.readBackend("frontend-id"));
        assertEquals("/local/domain/1/device/ring/5", fe.readBackend("frontend"));
        assertEquals("1", fe.readBackend("online"));
        GuestFrontend.Ring ring = fe.publishRing();
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);
        roundTrip(guest, ring);
        roundTrip(guest, ring);
        assertEquals(List.of("probe 5", "connect 5"), backend.calls);
        assertEquals(List.of(new DeviceStatus(1, TYPE, 5, XenbusState.CONNECTED, XenbusState.CONNECTED, true, null)),
                bus.bus().devices());
        assertTrue(bus.host().backends().stream().anyMatch(b -> b.name().equals("xenbus-ring-1-5")
                && b.binding(1, ring.port()) != null), "the device's named handle holds the port");
        assertEquals(List.of(), bus.log());
    }

    @Test
    void theDirectoriesHaveLibxlsPermissionsAndTheGuestCannotWriteTheBackends() {
        GuestDomain guest = bus.domain(1);
        GuestDomain other = bus.domain(2);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        assertEquals(List.of("n1", "r0"), bus.store().getPermissions("/local/domain/1/device/ring/5"));
        assertEquals(List.of("n1", "r0"), bus.store().getPermissions("/local/domain/1/device/ring/5/state"));
        assertEquals(List.of("n0", "r1"), bus.store().getPermissions("/local/domain/0/backend/ring/1/5"));
        assertEquals(List.of("n0", "r1"), bus.store().getPermissions("/local/domain/0/backend/ring/1/5/state"));
        assertEquals(XenbusState.INITIALISING, fe.state());
        assertEquals(XenbusState.INITIALISING, fe.backendState(), "no backend of the type: nothing probes it");
        GuestStore.StoreError refused = assertThrows(GuestStore.StoreError.class,
                () -> guest.store().write(fe.backendPath() + "/state", "4"));
        assertEquals("EACCES", refused.error());
        assertEquals("EACCES", assertThrows(GuestStore.StoreError.class,
                () -> other.store().read("/local/domain/1/device/ring/5/state")).error());
        assertEquals("EACCES", assertThrows(GuestStore.StoreError.class,
                () -> other.store().read("/local/domain/0/backend/ring/1/5/state")).error());
        assertEquals(List.of(new DeviceStatus(1, TYPE, 5, XenbusState.INITIALISING, XenbusState.INITIALISING, false, null)),
                bus.bus().devices());
    }

    @Test
    void addRefusesUnknownDomainsDuplicatesAndTheBussOwnNodes() {
        bus.domain(1);
        assertEquals("no domain 7", assertThrows(IllegalArgumentException.class, () -> bus.bus().add(device(7, 5))).getMessage());
        bus.bus().add(device(1, 5));
        assertEquals("dom1 has a ring 5 already",
                assertThrows(IllegalArgumentException.class, () -> bus.bus().add(device(1, 5))).getMessage());
        bus.store().write("/local/domain/0/backend/ring/1/6/x", "left by someone");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> bus.bus().add(device(1, 6))).getMessage()
                .contains("in XenStore already (/local/domain/0/backend/ring/1/6)"));
        assertEquals("frontend node state is written by the bus", assertThrows(IllegalArgumentException.class,
                () -> bus.bus().add(new DeviceNodes(1, TYPE, 7, Map.of(), Map.of("state", "4")))).getMessage());
        assertEquals("backend node online is written by the bus", assertThrows(IllegalArgumentException.class,
                () -> bus.bus().add(new DeviceNodes(1, TYPE, 7, Map.of("online", "0"), Map.of()))).getMessage());
        assertFalse(exists("/local/domain/1/device/ring/7"), "nothing written for a refused device");
        assertEquals(1, bus.bus().devices().size());
    }

    boolean exists(String path) {
        try {
            bus.store().read(path);
            return true;
        } catch (XenStoreException e) {
            assertEquals("ENOENT", e.error());
            return false;
        }
    }

    static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    boolean handleExists(String name) {
        return bus.host().backends().stream().anyMatch(b -> b.name().equals(name));
    }

    @Test
    void aProbeThatFailsWritesTheErrorAndClosesTheDevice() {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(new DeviceNodes(1, TYPE, 5, Map.of("refuse", "no such image"), Map.of()));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        fe.awaitBackendState(XenbusState.CLOSED);
        assertEquals("refused: no such image", fe.readBackend("error"));
        assertEquals(List.of(new DeviceStatus(1, TYPE, 5, XenbusState.CLOSED, XenbusState.INITIALISING, false,
                "refused: no such image")), bus.bus().devices());
        // the guest writing Initialising again is no new start: the device stays closed
        fe.switchState(XenbusState.INITIALISING);
        pause(); // time for the watch event to be acted on, if it were
        assertEquals(XenbusState.CLOSED, fe.backendState());
        assertEquals(List.of("probe 5"), backend.calls);
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aConnectThatFailsOnABadRingRefWritesTheErrorAndTheFrontendMayStartOver() {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        int port = guest.allocUnbound();
        fe.write("ring-ref", "300"); // never granted
        fe.write("event-channel", Integer.toString(port));
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CLOSING);
        assertTrue(fe.readBackend("error").startsWith("ring-ref 300: "), fe.readBackend("error"));
        assertFalse(handleExists("xenbus-ring-1-5"), "no port bound");
        // the frontend closes and starts over, as Linux's does after a backend's error
        fe.switchState(XenbusState.CLOSED);
        fe.awaitBackendState(XenbusState.CLOSED);
        fe.switchState(XenbusState.INITIALISING);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        assertNull(fe.readBackend("error"), "a new probe clears the error");
        roundTrip(guest, fe.connect(Map.of()));
        assertEquals(List.of("probe 5", "connect 5", "probe 5", "connect 5"), backend.calls);
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aForgedOrMalformedPortIsRefused() {
        GuestDomain guest = bus.domain(1);
        GuestDomain other = bus.domain(2);
        bus.register(new RingBackend("a", TYPE), 0);
        bus.bus().add(device(1, 5));
        bus.bus().add(device(1, 6));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        int othersPort = other.allocUnbound(); // a port of another domain, offered to dom0
        fe.write("ring-ref", Integer.toString(guest.grant(guest.allocPage(), false)));
        fe.write("event-channel", Integer.toString(othersPort + 40));
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CLOSING);
        assertTrue(fe.readBackend("error").contains("event channel " + (othersPort + 40) + " is not dom1's unbound port for dom0"),
                fe.readBackend("error"));
        assertEquals(0, guest.grantFlags(Integer.parseInt(fe.read("ring-ref"))) & 0x18, "the ring was unmapped again");
        GuestFrontend six = guest.frontend(TYPE, 6);
        six.awaitBackendState(XenbusState.INIT_WAIT);
        six.write("ring-ref", "12x");
        six.switchState(XenbusState.INITIALISED);
        six.awaitBackendState(XenbusState.CLOSING);
        assertEquals("/local/domain/1/device/ring/6/ring-ref is not a number: \"12x\"", six.readBackend("error"));
        assertEquals(List.of(), bus.log());
    }

    @Test
    void theFrontendClosesAndReconnectsAsAGuestRebootDoes() {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        GuestFrontend.Ring first = fe.connect(Map.of());
        roundTrip(guest, first);
        fe.switchState(XenbusState.CLOSING);
        fe.awaitBackendState(XenbusState.CLOSING);
        assertEquals(List.of("probe 5", "connect 5", "disconnect 5"), backend.calls);
        assertFalse(handleExists("xenbus-ring-1-5"), "the port closed at disconnect");
        assertEquals(0, guest.grantFlags(first.ref()) & 0x18, "the ring unmapped");
        assertTrue(guest.endAccess(first.ref()));
        fe.switchState(XenbusState.CLOSED);
        fe.awaitBackendState(XenbusState.CLOSED);
        assertTrue(exists("/local/domain/1/device/ring/5"), "online: the device stays");
        // xenbus_reset_state or a new kernel: Initialising again
        fe.switchState(XenbusState.INITIALISING);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        GuestFrontend.Ring second = fe.publishRing();
        fe.awaitBackendState(XenbusState.CONNECTED);
        roundTrip(guest, second);
        assertEquals(List.of("probe 5", "connect 5", "disconnect 5", "probe 5", "connect 5"), backend.calls);
        // a frontend that goes straight to Closed (or writes garbage) is disconnected too
        fe.write("state", "garbage");
        fe.awaitBackendState(XenbusState.CLOSED);
        assertEquals("disconnect 5", backend.calls.get(5));
        assertEquals(List.of(), bus.log());
    }

    @Test
    void removeWithAFrontendThatClosesRemovesBothDirectories() throws Exception {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        roundTrip(guest, fe.connect(Map.of()));
        Thread frontend = Thread.ofPlatform().start(() -> { // blkfront's backend_changed: Closing -> close
            fe.awaitBackendState(XenbusState.CLOSING);
            fe.switchState(XenbusState.CLOSING);
            fe.switchState(XenbusState.CLOSED);
        });
        assertTrue(bus.bus().remove(1, TYPE, 5, 20_000));
        frontend.join();
        assertFalse(exists("/local/domain/1/device/ring/5"));
        assertFalse(exists("/local/domain/0/backend/ring/1/5"));
        assertFalse(exists("/local/domain/0/backend/ring/1"), "no device of the domain left");
        assertEquals(List.of(), bus.bus().devices());
        assertEquals(List.of("probe 5", "connect 5", "disconnect 5"), backend.calls);
        assertFalse(handleExists("xenbus-ring-1-5"));
        assertEquals("dom1 has no ring 5", assertThrows(IllegalArgumentException.class,
                () -> bus.bus().remove(1, TYPE, 5, 10)).getMessage());
        assertEquals(List.of(), bus.log());
    }

    @Test
    void removeWithAFrontendThatDoesNotAnswerForcesTheRemovalAfterTheTimeout() throws Exception {
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        bus.bus().add(device(1, 6));
        GuestFrontend fe = guest.frontend(TYPE, 5);
        roundTrip(guest, fe.connect(Map.of()));
        assertFalse(bus.bus().remove(1, TYPE, 5, 200));
        assertEquals(List.of("connect 5", "disconnect 5", "probe 5", "probe 6"), backend.calls.stream().sorted().toList());
        assertFalse(exists("/local/domain/1/device/ring/5"));
        assertFalse(exists("/local/domain/0/backend/ring/1/5"));
        assertFalse(handleExists("xenbus-ring-1-5"));
        // a device whose frontend never started: nobody answers either
        assertFalse(bus.bus().remove(1, TYPE, 6, 100));
        assertEquals(List.of(), bus.bus().devices());
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aDestroyedDomainsDevicesAreDisconnectedAndTheirBackendDirectoriesRemoved() {
        GuestDomain guest = bus.domain(1);
        GuestDomain other = bus.domain(2);
        RingBackend backend = new RingBackend("a", TYPE);
        bus.register(backend, 0);
        bus.bus().add(device(1, 5));
        bus.bus().add(device(2, 5));
        roundTrip(guest, guest.frontend(TYPE, 5).connect(Map.of()));
        GuestFrontend.Ring ring = other.frontend(TYPE, 5).connect(Map.of());
        bus.destroy(1);
        assertTrue(backend.calls.contains("disconnect 5"));
        assertFalse(exists("/local/domain/0/backend/ring/1"));
        assertFalse(handleExists("xenbus-ring-1-5"));
        assertEquals(List.of(2), bus.bus().devices().stream().map(DeviceStatus::domid).toList());
        roundTrip(other, ring);
        assertEquals(List.of(), bus.log());
    }
}
