package linux.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceStatus;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.StoreBackend;

/**
 * {@link DiskDevices} without KVM: on a host with a domain on a software vCPU, a disk added the
 * moment its domain exists (as the kernel booter and {@link LinuxSession} add it, before the vCPUs
 * run) is probed by the vbd backend, which publishes what Linux's blkfront reads (sectors, info,
 * sector-size), and it goes with its domain.
 */
class DiskDevicesTest {
    static final int DOMID = 1;
    static final String BACKEND = "/local/domain/0/backend/vbd/1/51712/";
    static final String FRONTEND = "/local/domain/1/device/vbd/51712/";

    @Test
    void aDiskAddedToANewDomainIsProbedAndGoesWithIt(@TempDir Path dir) throws Exception {
        Path image = Files.write(dir.resolve("disk.img"), new byte[8 * DiskSpec.SECTOR_SIZE]);
        List<String> log = new CopyOnWriteArrayList<>();
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            HostComponent host = new HostComponent(timers);
            StoreBackend store = new StoreBackend(host, host, host, log::add);
            host.addListener(store);
            try (DiskDevices devices = new DiskDevices(host, store, log::add);
                    SoftwareBackend vcpus = new SoftwareBackend(DOMID, 1, 1 << 20, host.hypercalls())) {
                host.createDomain(DOMID, vcpus, line -> { });
                DiskSpec disk = DiskSpec.parse(image + ",ro");
                devices.bus().add(disk.nodes(DOMID));

                DeviceStatus status = await(devices, s -> s.backendState() == XenbusState.INIT_WAIT && s.served());
                assertEquals(new DeviceStatus(DOMID, "vbd", 51712, XenbusState.INIT_WAIT, XenbusState.INITIALISING, true, null),
                        status);
                assertEquals("8", store.readString(BACKEND + "sectors"));
                assertEquals("512", store.readString(BACKEND + "sector-size"));
                assertEquals("4", store.readString(BACKEND + "info"), "VDISK_READONLY: blkfront marks the disk read-only");
                assertEquals("r", store.readString(BACKEND + "mode"));
                assertEquals(image.toAbsolutePath().toString(), store.readString(BACKEND + "params"));
                assertEquals("51712", store.readString(FRONTEND + "virtual-device"));
                assertEquals(BACKEND.substring(0, BACKEND.length() - 1), store.readString(FRONTEND + "backend"));

                host.destroyDomain(DOMID);
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!devices.bus().devices().isEmpty()) {
                    assertTrue(System.nanoTime() < deadline, () -> "the disk stayed after its domain: " + devices.bus().devices());
                    Thread.sleep(10);
                }
            } finally {
                host.removeListener(store);
                store.deactivate();
            }
        }
        assertEquals(List.of(), log, "nothing went wrong on the way");
    }

    /** Waits up to 20 s for the one device to be in the state {@code wanted} says. */
    private static DeviceStatus await(DiskDevices devices, java.util.function.Predicate<DeviceStatus> wanted)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            List<DeviceStatus> all = devices.bus().devices();
            if (all.size() == 1 && wanted.test(all.getFirst())) {
                return all.getFirst();
            }
            assertTrue(System.nanoTime() < deadline, () -> "the disk is " + all);
            Thread.sleep(10);
        }
    }
}
