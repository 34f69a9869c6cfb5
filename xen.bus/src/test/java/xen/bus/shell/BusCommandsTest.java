package xen.bus.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.bus.testing.BusHost;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;

/** xen:devices on a bus serving a real host: a device in InitWait, one refused with its error, one unserved. */
class BusCommandsTest {
    final BusHost bus = new BusHost();
    final BusCommands xen = new BusCommands(bus.bus());

    @AfterEach
    void tearDown() {
        bus.close();
        assertEquals(List.of(), bus.log());
    }

    /** A backend that accepts devices up to devid 9 and does nothing else. */
    static final class Picky implements XenBusBackend {
        @Override
        public String type() {
            return "vbd";
        }

        @Override
        public DeviceBackend probe(XenBusDevice device) throws XenBusException {
            if (device.devid() > 9) {
                throw new XenBusException("devid " + device.devid() + " too large");
            }
            return new DeviceBackend() {
                @Override
                public void connect() {
                }

                @Override
                public void disconnect() {
                }

                @Override
                public void handOver() {
                }
            };
        }
    }

    @Test
    void devicesListsEachDevicesStatesServedAndError() {
        assertEquals("no devices\n", xen._main("devices"));
        bus.domain(1);
        bus.register(new Picky(), 0);
        bus.bus().add(new DeviceNodes(1, "vbd", 5, Map.of(), Map.of()));
        bus.bus().add(new DeviceNodes(1, "vbd", 51712, Map.of(), Map.of()));
        bus.bus().add(new DeviceNodes(1, "vif", 0, Map.of(), Map.of()));
        BusHost.waitFor(() -> bus.bus().devices().stream().filter(d -> d.type().equals("vbd"))
                .allMatch(d -> d.backendState() != XenbusState.INITIALISING), "both disks probed");
        assertEquals(String.join("\n",
                "domid  type     devid      backend       frontend      served error",
                "1      vbd      5          InitWait      Initialising  yes    ",
                "1      vbd      51712      Closed        Initialising  no     devid 51712 too large",
                "1      vif      0          Initialising  Initialising  no     ",
                ""), xen._main("devices"));
        assertEquals("usage: xen:devices", assertThrows(IllegalArgumentException.class, () -> xen._main("devices", "x")).getMessage());
        assertEquals("no command xen:nope", assertThrows(IllegalArgumentException.class, () -> xen._main("nope")).getMessage());
    }
}
