package xen.bus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.bus.core.BusComponentTest.TYPE;
import static xen.bus.core.BusComponentTest.U32;
import static xen.bus.core.BusComponentTest.device;
import static xen.bus.core.BusComponentTest.roundTrip;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.bus.testing.BusHost;
import xen.bus.testing.GuestDomain;
import xen.bus.testing.GuestFrontend;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.bus.DeviceStatus;

/**
 * Devices across a save and restore of their domain: the bus's part hands each connected device
 * over at the save (the domain's devices then left as they are until it is destroyed), and the
 * restore resumes it on this or another host, under the same or another domid, with nothing the
 * guest sees changed; a device only probed completes its handshake after the restore; a record
 * the bus cannot read is left out (the part is optional).
 */
class BusSaveRestoreTest {
    private final List<BusHost> hosts = new ArrayList<>();

    private BusHost host() {
        BusHost h = new BusHost();
        hosts.add(h);
        return h;
    }

    @AfterEach
    void tearDown() {
        hosts.forEach(BusHost::close);
    }

    /** A domain with a connected ring device (devid 5) served by {@code backend}, one request answered. */
    private static GuestFrontend.Ring connected(BusHost bus, GuestDomain guest, RingBackend backend) {
        bus.register(backend, 0);
        bus.bus().add(device(guest.domid(), 5));
        GuestFrontend.Ring ring = guest.frontend(TYPE, 5).connect(Map.of());
        roundTrip(guest, ring);
        return ring;
    }

    /** The ring as the restored guest sees it: the same frame, ref and port, in its (copied) memory. */
    private static GuestFrontend.Ring in(GuestDomain guest, GuestFrontend.Ring ring) {
        return new GuestFrontend.Ring(ring.gfn(), guest.page(ring.gfn()), ring.ref(), ring.port());
    }

    private static List<String> handles(BusHost bus) {
        return bus.host().backends().stream().filter(s -> s.name().startsWith("xenbus-") && !s.bindings().isEmpty()).map(BackendState::name).toList();
    }

    @Test
    void aConnectedDeviceResumesOnAnotherHostUnderAnotherDomid() {
        BusHost a = host();
        GuestDomain guest = a.domain(1);
        RingBackend first = new RingBackend("first", TYPE);
        GuestFrontend.Ring ring = connected(a, guest, first);
        // a request the backend may or may not have answered when the save comes: answered once, either way
        int n = ring.page().get(U32, RingBackend.REQ_PROD) + 1;
        ring.page().set(U32, RingBackend.REQ_PROD, n);
        guest.notify(ring.port());

        byte[] stream = guest.handle().save();
        assertEquals(List.of("probe 5", "connect 5", "handOver 5"), first.calls, "handed over at the save");
        assertTrue(a.host().isParked("xenbus-ring-1-5"));
        assertEquals(List.of(new DeviceStatus(1, TYPE, 5, XenbusState.CONNECTED, XenbusState.CONNECTED, false, null)),
                a.bus().devices(), "left as saved");
        assertThrows(IllegalStateException.class, () -> a.bus().add(device(1, 6)), "a saved domain gets no device");

        BusHost b = host();
        RingBackend second = new RingBackend("second", TYPE);
        b.register(second, 0);
        GuestDomain restored = b.restore(7, stream, guest);
        a.destroy(1);
        GuestFrontend.Ring ring7 = in(restored, ring);
        BusHost.waitFor(() -> ring7.page().get(U32, RingBackend.RSP_PROD) == n, "the answer to the request of the save");
        roundTrip(restored, ring7);
        assertEquals(List.of("probe 5", "connect 5 resumed"), second.calls);
        GuestFrontend fe = restored.frontend(TYPE, 5);
        assertEquals(XenbusState.CONNECTED, fe.state(), "the guest was not told");
        assertEquals(XenbusState.CONNECTED, fe.backendState());
        assertEquals("/local/domain/0/backend/ring/7/5", fe.read("backend"), "the bus's nodes name the new domid");
        assertEquals("/local/domain/7/device/ring/5", b.store().readString("/local/domain/0/backend/ring/7/5/frontend"));
        assertEquals("7", b.store().readString("/local/domain/0/backend/ring/7/5/frontend-id"));
        assertEquals(List.of("xenbus-ring-7-5"), handles(b), "the port under the handle of its new domid only");
        assertFalse(b.host().isParked("xenbus-ring-7-5"));
        roundTrip(restored, ring7);
        roundTrip(restored, ring7);
        assertEquals(List.of("probe 5", "connect 5", "handOver 5"), first.calls, "nothing after the save on the old host");
        assertEquals(List.of(), handles(a), "the saved domain's parked port closed when it went");

        fe.close();
        assertEquals("disconnect 5", second.calls.get(2));
        assertEquals(List.of(), a.log());
        assertEquals(List.of(), b.log());
    }

    @Test
    void onTheSameHostUnderTheSameDomidAndUnderAnotherWhileTheSavedOneIsStillThere() {
        BusHost bus = host();
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        GuestFrontend.Ring ring = connected(bus, guest, backend);

        byte[] stream = guest.handle().save();
        GuestDomain two = bus.restore(2, stream, guest); // the saved domain 1 is still here, its port parked
        GuestFrontend.Ring ring2 = in(two, ring);
        roundTrip(two, ring2);
        bus.destroy(1);
        roundTrip(two, ring2); // the saved domain's going closed its own port only
        assertEquals(List.of("probe 5", "connect 5", "handOver 5", "probe 5", "connect 5 resumed"), backend.calls);
        assertEquals(List.of("xenbus-ring-2-5"), handles(bus));

        byte[] again = two.handle().save();
        bus.destroy(2);
        GuestDomain back = bus.restore(2, again, two);
        GuestFrontend.Ring ring3 = in(back, ring);
        roundTrip(back, ring3);
        assertEquals(List.of("probe 5", "connect 5", "handOver 5", "probe 5", "connect 5 resumed",
                "handOver 5", "probe 5", "connect 5 resumed"), backend.calls, "no disconnect: destroy after save touches nothing twice");
        assertEquals(List.of(new DeviceStatus(2, TYPE, 5, XenbusState.CONNECTED, XenbusState.CONNECTED, true, null)),
                bus.bus().devices());
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aDeviceOnlyProbedAtTheSaveCompletesItsHandshakeAfterTheRestore() {
        BusHost a = host();
        GuestDomain guest = a.domain(1);
        RingBackend first = new RingBackend("first", TYPE);
        a.register(first, 0);
        a.bus().add(device(1, 5));
        guest.frontend(TYPE, 5).awaitBackendState(XenbusState.INIT_WAIT);
        byte[] stream = guest.handle().save();
        a.destroy(1);

        BusHost b = host();
        RingBackend second = new RingBackend("second", TYPE);
        b.register(second, 0);
        GuestDomain restored = b.restore(3, stream, guest);
        // under another domid the bus's nodes name the new one once it has adopted the device
        BusHost.waitFor(() -> b.bus().devices().size() == 1, "the device adopted");
        GuestFrontend fe = restored.frontend(TYPE, 5);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        GuestFrontend.Ring ring = fe.publishRing();
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);
        roundTrip(restored, ring);
        assertEquals(List.of("probe 5"), first.calls);
        assertEquals(List.of("probe 5", "connect 5"), second.calls, "a new connection, not a resumed one");
        assertEquals(List.of(), a.log());
        assertEquals(List.of(), b.log());
    }

    @Test
    void aRecordTheBusCannotReadIsLeftOutAndTheDevicesAreAdoptedFromXenStore() {
        BusHost bus = host();
        GuestDomain guest = bus.domain(1);
        RingBackend backend = new RingBackend("a", TYPE);
        GuestFrontend.Ring ring = connected(bus, guest, backend);
        byte[] stream = guest.handle().save();
        bus.destroy(1);

        byte[] bad = stream.clone();
        bad[busRecord(bad)] = 9; // the format byte
        GuestDomain restored = bus.restore(1, resealed(bad), guest);
        GuestFrontend.Ring ring1 = in(restored, ring);
        roundTrip(restored, ring1); // the same domid: its parked port is found by name, as a new bus finds it
        assertEquals(List.of("probe 5", "connect 5", "handOver 5", "probe 5", "connect 5 resumed"), backend.calls);
        assertEquals(List.of("xen.bus: dom1: its xen.bus record is left out (save stream, xen.bus part, byte 0: format 9, not 1);"
                + " its devices are adopted from XenStore as they are", "xen.bus: dom1 ring 5: adopted in state Connected"), bus.log());
    }

    @Test
    void aHostWithoutTheBusRestoresTheDomainAndItsDevicesWait() {
        BusHost a = host();
        GuestDomain guest = a.domain(1);
        connected(a, guest, new RingBackend("a", TYPE));
        byte[] stream = guest.handle().save();
        a.destroy(1);
        BusHost b = host();
        b.host().removePart(b.bus()); // a host whose bus is no part: the optional record is skipped
        GuestDomain restored = b.restore(1, stream, guest);
        assertEquals(XenbusState.CONNECTED, restored.frontend(TYPE, 5).backendState(), "the devices wait, Connected");
        assertTrue(b.host().isParked("xenbus-ring-1-5"), "its port parked for a backend to come");
    }

    /** The offset of the xen.bus PART record's body (after its name) in {@code stream}. */
    static int busRecord(byte[] stream) {
        ByteBuffer b = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 16; at < stream.length - 4;) {
            int type = b.getShort(at) & 0xFFFF;
            int length = b.getInt(at + 4);
            if (type == 10) {
                int nameLength = stream[at + 8];
                String name = new String(stream, at + 9, nameLength, StandardCharsets.US_ASCII);
                if (name.equals(BusComponent.PART)) {
                    return at + 9 + nameLength;
                }
            }
            at += 8 + length;
        }
        throw new AssertionError("no xen.bus record");
    }

    static byte[] resealed(byte[] s) {
        CRC32C crc = new CRC32C();
        crc.update(s, 0, s.length - 4);
        ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN).putInt(s.length - 4, (int) crc.getValue());
        return s;
    }
}
