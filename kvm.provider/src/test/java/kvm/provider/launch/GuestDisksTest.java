package kvm.provider.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.launch.PvhGuestLauncherTest.FakeBus;
import kvm.provider.launch.PvhGuestLauncherTest.FakeDomain;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.bus.DiskSpec;

/** {@link GuestDisks}: the toolstack's add and remove, without KVM. */
class GuestDisksTest {
    private final List<DiskSpec> two = DiskSpec.parseAll(List.of("/a.img", "/b.img,ro,vdev=xvdq"));

    @Test
    void noDisksNeedNoBus() {
        GuestDisks none = new GuestDisks(List.of(), null);
        none.add(new FakeDomain(1, 1, line -> { }));
        none.remove(1, line -> { throw new AssertionError(line); });
    }

    @Test
    void disksNeedABus() {
        assertEquals("configuration xen.domain.kernel: disk needs the XenBus service, and none is registered:"
                + " add bundle xen.bus (and a vbd backend, xen.block) to the host",
                assertThrows(IllegalStateException.class, () -> new GuestDisks(two, null)).getMessage());
    }

    @Test
    void eachDiskIsAddedWithItsNodesAndRemovedWithoutWaiting() {
        FakeBus bus = new FakeBus();
        GuestDisks disks = new GuestDisks(two, bus);
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
                () -> new GuestDisks(two, bus).add(new FakeDomain(5, 1, line -> { })));
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
        new GuestDisks(two, bus).remove(5, log::add);
        assertEquals(List.of("dom5: removing disk xvdq: java.lang.IllegalStateException: xenstore is gone"), log);
    }
}
