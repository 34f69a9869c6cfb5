package xen.block.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * A vbd across a save and restore of its domain, with a stream of writes in flight: the guest's
 * vCPU is paused (the writer stops submitting) with requests on the ring, the domain is saved
 * (the backend answers what it took), its memory copied and restored, on another host under
 * another domid or on the same host under the same one after the saved one was destroyed; the
 * frontend, never told, carries on. The image holds exactly what was written, and every request
 * is answered exactly once.
 */
class BlockSaveRestoreTest {
    private static final int BUFFERS = 16;
    private static final int SECTORS = 8192;
    @TempDir
    Path dir;
    private final List<BusHost> hosts = new ArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Random random = new Random(11);

    @AfterEach
    void close() {
        hosts.forEach(BusHost::close);
    }

    private BusHost host() {
        BusHost h = new BusHost();
        h.register(new BlockBackend(Map.of(), log::add), 0);
        hosts.add(h);
        return h;
    }

    /** The guest's writer: submits random writes (collecting answers only when it needs a buffer) until told to stop. */
    private final class Writer {
        final BlkFront front;
        final byte[] expected;
        int written;

        Writer(BlkFront front, byte[] expected) {
            this.front = front;
            this.expected = expected;
        }

        /** Writes on a thread of its own for {@code millis}, then stops (as a paused vCPU does), leaving what it submitted in flight. */
        void runFor(long millis) throws InterruptedException {
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    int sectors = 1 + random.nextInt(88);
                    long sector = random.nextInt(SECTORS - sectors + 1);
                    byte[] data = new byte[sectors * 512];
                    random.nextBytes(data);
                    front.submitWrite(sector, data);
                    System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
                    written++;
                }
            });
            Thread.sleep(millis);
            stop.set(true);
            t.join();
        }
    }

    private static BlkFront connect(GuestDomain guest, DiskSpec disk) {
        GuestFrontend fe = guest.frontend(DiskSpec.TYPE, disk.devid());
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        BlkFront front = new BlkFront(new BusFrontGuest(guest), 1, BUFFERS);
        front.nodes().forEach(fe::write);
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);
        return front;
    }

    /** Writes, saves mid-stream, restores with {@code restore}, writes on; checks the image and the answers. */
    private void acrossASave(BusHost a, java.util.function.BiFunction<GuestDomain, byte[], GuestDomain> restore) throws Exception {
        GuestDomain guest = a.domain(1);
        Path img = dir.resolve("disk.img");
        byte[] initial = new byte[SECTORS * 512];
        random.nextBytes(initial);
        Files.write(img, initial);
        byte[] expected = initial.clone();
        DiskSpec disk = new DiskSpec(img, "xvda", false);
        a.bus().add(disk.nodes(1));
        BlkFront front = connect(guest, disk);
        Writer writer = new Writer(front, expected);

        writer.runFor(150);
        int inFlight = front.inFlight();
        assertTrue(inFlight > 0, "requests in flight at the save");
        byte[] stream = guest.handle().save();
        GuestDomain restored = restore.apply(guest, stream);
        front.moveTo(new BusFrontGuest(restored));
        writer.runFor(150);
        front.drain();
        assertEquals(Blkif.RSP_OKAY, front.await(front.submitFlush(Blkif.OP_FLUSH_DISKCACHE, 0, new byte[0])));

        assertEquals(writer.written + 1, front.statuses().size(), "every request answered");
        for (long id = 1; id <= writer.written + 1; id++) {
            assertEquals(Blkif.RSP_OKAY, front.statuses().get(id), "request " + id);
        }
        assertEquals(List.of(), front.anomalies(), "none answered twice, none answered that was not sent");
        assertArrayEquals(expected, Files.readAllBytes(img), "the image is exactly what was written");
        GuestFrontend fe = restored.frontend(DiskSpec.TYPE, disk.devid());
        assertEquals(XenbusState.CONNECTED, fe.state());
        assertEquals(XenbusState.CONNECTED, fe.backendState());
        assertEquals(List.of(), log);
    }

    @Test
    void onAnotherHostUnderAnotherDomid() throws Exception {
        BusHost a = host();
        BusHost b = host();
        acrossASave(a, (guest, stream) -> {
            GuestDomain restored = b.restore(4, stream, guest);
            a.destroy(1);
            return restored;
        });
        assertEquals(List.of(), a.log());
        assertEquals(List.of(), b.log());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("dom1-vbd-51712")),
                "the old host's ring thread ended at the save");
    }

    @Test
    void onTheSameHostUnderTheSameDomidAfterTheSavedOneWasDestroyed() throws Exception {
        BusHost a = host();
        acrossASave(a, (guest, stream) -> {
            a.destroy(1);
            return a.restore(1, stream, guest);
        });
        assertEquals(List.of(), a.log());
    }
}
