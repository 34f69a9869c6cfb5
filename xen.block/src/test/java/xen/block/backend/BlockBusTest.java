package xen.block.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.block.front.BlkFront;
import xen.block.front.BusFrontGuest;
import xen.bus.testing.BusHost;
import xen.bus.testing.GuestDomain;
import xen.bus.testing.GuestFrontend;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.bus.DiskSpec;

/**
 * The backend through the real bus and XenStore ({@link BusHost}): the toolstack adds a disk, the
 * guest's frontend (the bus's fixture for the xenbus steps, {@link BlkFront} for the ring) reads
 * the backend's nodes through its own XenStore ring, connects, writes and reads; the backend
 * service is unregistered and a new one registered in the middle of a stream of writes.
 */
class BlockBusTest {
    private static final int BUFFERS = 16; // the fixture's domains have 1 MiB
    @TempDir
    Path dir;
    private final BusHost bus = new BusHost();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Random random = new Random(7);

    @AfterEach
    void close() {
        bus.close();
    }

    private Path image(int sectors) throws Exception {
        byte[] bytes = new byte[sectors * 512];
        random.nextBytes(bytes);
        Path p = dir.resolve("disk" + random.nextInt(1000) + ".img");
        Files.write(p, bytes);
        return p;
    }

    private BusHost.Registration register() {
        return bus.register(new BlockBackend(Map.of(), log::add), 0);
    }

    /** The guest's driver: waits for InitWait, publishes its ring's nodes, Initialised, waits for Connected. */
    private static BlkFront connect(GuestFrontend fe, GuestDomain guest, int order) {
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        BlkFront front = new BlkFront(new BusFrontGuest(guest), order, BUFFERS);
        front.nodes().forEach(fe::write);
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);
        return front;
    }

    @Test
    void aDiskAddedByTheToolstackIsServedThroughTheBus() throws Exception {
        GuestDomain guest = bus.domain(1);
        register();
        Path img = image(4096);
        byte[] expected = Files.readAllBytes(img);
        DiskSpec disk = new DiskSpec(img, "xvda", false);
        bus.bus().add(disk.nodes(1));
        GuestFrontend fe = guest.frontend(DiskSpec.TYPE, disk.devid());
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        assertEquals("4096", fe.readBackend("sectors"), "the guest reads the disk's nodes through its own ring");
        assertEquals("512", fe.readBackend("sector-size"));
        assertEquals("0", fe.readBackend("info"));
        assertEquals("1", fe.readBackend("feature-flush-cache"));
        assertEquals("4", fe.readBackend("max-ring-page-order"));
        BlkFront front = connect(fe, guest, 2);
        for (int i = 0; i < 200; i++) {
            int sectors = 1 + random.nextInt(88);
            long sector = random.nextInt(4096 - sectors + 1);
            byte[] data = new byte[sectors * 512];
            random.nextBytes(data);
            front.submitWrite(sector, data);
            System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
        }
        front.drain();
        assertEquals(Blkif.RSP_OKAY, front.await(front.submitFlush(Blkif.OP_FLUSH_DISKCACHE, 0, new byte[0])));
        assertTrue(front.statuses().values().stream().allMatch(s -> s == Blkif.RSP_OKAY));
        assertArrayEquals(expected, Files.readAllBytes(img));
        byte[] got = new byte[44 * 1024];
        assertEquals(Blkif.RSP_OKAY, front.read(1000, got));
        assertArrayEquals(Arrays.copyOfRange(expected, 1000 * 512, 1000 * 512 + got.length), got);
        assertEquals(List.of(), front.anomalies());

        fe.close();
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("dom1-vbd-51712")),
                "the ring's thread ended with the connection");
        assertEquals(List.of(), log);
        assertEquals(List.of(), bus.log());
    }

    @Test
    void aReadOnlyDiskAndAMissingImage() throws Exception {
        GuestDomain guest = bus.domain(2);
        register();
        Path img = image(64);
        byte[] before = Files.readAllBytes(img);
        DiskSpec ro = new DiskSpec(img, "xvda", true);
        bus.bus().add(ro.nodes(2));
        GuestFrontend fe = guest.frontend(DiskSpec.TYPE, ro.devid());
        BlkFront front = connect(fe, guest, 0);
        assertEquals("4", fe.readBackend("info"));
        assertNull(fe.readBackend("feature-flush-cache"));
        assertEquals(Blkif.RSP_ERROR, front.write(0, new byte[512]));
        byte[] got = new byte[4096];
        assertEquals(Blkif.RSP_OKAY, front.read(8, got));
        assertArrayEquals(Arrays.copyOfRange(before, 4096, 8192), got);
        assertArrayEquals(before, Files.readAllBytes(img));

        Path gone = dir.resolve("gone.img");
        DiskSpec missing = new DiskSpec(gone, "xvdb", false);
        bus.bus().add(missing.nodes(2));
        GuestFrontend fe2 = guest.frontend(DiskSpec.TYPE, missing.devid());
        BusHost.waitFor(() -> fe2.readBackend("error") != null, "the refusal");
        assertTrue(fe2.readBackend("error").contains("vbd 51728: " + gone + ": no such file"), fe2.readBackend("error"));
    }

    @Test
    void theBackendServiceIsReplacedMidStreamAndEveryRequestIsAnsweredOnce() throws Exception {
        GuestDomain guest = bus.domain(3);
        BusHost.Registration[] current = {register()};
        int sectorsOnDisk = 8192;
        Path img = image(sectorsOnDisk);
        byte[] expected = Files.readAllBytes(img);
        DiskSpec disk = new DiskSpec(img, "xvda", false);
        bus.bus().add(disk.nodes(3));
        BlkFront front = connect(guest.frontend(DiskSpec.TYPE, disk.devid()), guest, 1);

        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger swaps = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread swapper = Thread.ofPlatform().start(() -> {
            try {
                while (!done.get()) {
                    Thread.sleep(20);
                    // a bundle update: the old service goes (the bus hands its devices over), a new one comes
                    current[0].close();
                    current[0] = register();
                    swaps.incrementAndGet();
                }
            } catch (Throwable t) {
                errors.add(t);
            }
        });
        int writes = 0;
        while (writes < 3000 || swaps.get() < 15) {
            int sectors = 1 + random.nextInt(88);
            long sector = random.nextInt(sectorsOnDisk - sectors + 1);
            byte[] data = new byte[sectors * 512];
            random.nextBytes(data);
            front.submitWrite(sector, data);
            System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
            writes++;
        }
        front.drain();
        done.set(true);
        swapper.join();
        assertEquals(List.of(), List.copyOf(errors));
        assertEquals(writes, front.statuses().size(), "every request answered");
        assertTrue(front.statuses().values().stream().allMatch(s -> s == Blkif.RSP_OKAY));
        assertEquals(List.of(), front.anomalies(), "none answered twice, none answered that was not sent");
        assertArrayEquals(expected, Files.readAllBytes(img), "the image is exactly what was written");
        assertEquals(List.of(), log);
        assertEquals(List.of(), bus.log());
        assertTrue(swaps.get() >= 15);
    }
}
