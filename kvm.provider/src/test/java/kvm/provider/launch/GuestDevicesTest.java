package kvm.provider.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.launch.PvhGuestLauncherTest.FakeBus;
import kvm.provider.launch.PvhGuestLauncherTest.FakeDomain;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.DiskSpec;

/** {@link GuestDevices}: the toolstack's add and remove of disks and consoles, without KVM. */
class GuestDevicesTest {
    private final List<DiskSpec> two = DiskSpec.parseAll(List.of("/a.img", "/b.img,ro,vdev=xvdq"));

    @Test
    void noDisksNeedNoBus() {
        GuestDevices none = new GuestDevices(List.of(), 0, null);
        none.add(new FakeDomain(1, 1, line -> { }));
        none.remove(1, line -> { throw new AssertionError(line); });
    }

    @Test
    void disksNeedABus() {
        assertEquals("configuration xen.domain.kernel: disk needs the XenBus service, and none is registered:"
                + " add bundle xen.bus (and the backends: xen.block for disks, xen.console for consoles) to the host",
                assertThrows(IllegalStateException.class, () -> new GuestDevices(two, 0, null)).getMessage());
    }

    @Test
    void eachDiskIsAddedWithItsNodesAndRemovedWithoutWaiting() {
        FakeBus bus = new FakeBus();
        GuestDevices disks = new GuestDevices(two, 0, bus);
        disks.add(new FakeDomain(5, 1, line -> { }));
        assertEquals(List.of(two.get(0).nodes(5), two.get(1).nodes(5)), bus.added);
        disks.remove(5, line -> { throw new AssertionError(line); });
        assertEquals(List.of("5/vbd/51712 in 0 ms", "5/vbd/268439552 in 0 ms"), bus.removed);
    }

    @Test
    void aRefusedDiskIsNamed() {
        FakeBus bus = new FakeBus();
        bus.refuse = "no domain 5";
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new GuestDevices(two, 0, bus).add(new FakeDomain(5, 1, line -> { })));
        assertEquals("disk xvda (" + Path.of("/a.img") + "): the bus refused it: no domain 5", e.getMessage());
    }

    @Test
    void removalSkipsWhatIsGoneAndLogsFailures() {
        List<String> log = new ArrayList<>();
        FakeBus bus = new FakeBus() {
            @Override
            public boolean remove(int domid, String type, int devid, long timeoutMillis) {
                if (devid == 51712) {
                    throw new IllegalArgumentException("no such device");
                }
                throw new IllegalStateException("xenstore is gone");
            }
        };
        new GuestDevices(two, 0, bus).remove(5, log::add);
        assertEquals(List.of("dom5: removing disk xvdq (" + Path.of("/b.img") + "): java.lang.IllegalStateException: xenstore is gone"), log);
    }

    @Test
    void consolesNeedABusToo() {
        assertEquals("configuration xen.domain.kernel: consoles needs the XenBus service, and none is registered:"
                + " add bundle xen.bus (and the backends: xen.block for disks, xen.console for consoles) to the host",
                assertThrows(IllegalStateException.class, () -> new GuestDevices(List.of(), 2, null)).getMessage());
    }

    @Test
    void consolesOneToNAreAddedAfterTheDisksAndRemovedWithThem() {
        FakeBus bus = new FakeBus();
        GuestDevices devices = new GuestDevices(two.subList(0, 1), 2, bus);
        devices.add(new FakeDomain(5, 1, line -> { }));
        assertEquals(List.of(two.get(0).nodes(5), DeviceNodes.console(5, 1), DeviceNodes.console(5, 2)), bus.added);
        assertEquals(java.util.Map.of("protocol", "vt100"), bus.added.get(1).backend());
        devices.remove(5, line -> { throw new AssertionError(line); });
        assertEquals(List.of("5/vbd/51712 in 0 ms", "5/console/1 in 0 ms", "5/console/2 in 0 ms"), bus.removed);
    }
}
