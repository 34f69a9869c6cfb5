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
}
