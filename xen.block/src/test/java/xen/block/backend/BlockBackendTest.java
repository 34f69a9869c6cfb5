package xen.block.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.block.front.BlkFront;
import xen.block.front.DirectBus;
import xen.block.front.TestGuest;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifRequest.Segment;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBusException;
import xen.evtchn.impl.host.HostComponent;

/**
 * The backend against a real host on software vCPUs, its device driven as the bus drives it
 * ({@link DirectBus}), a Java blkfront ({@link BlkFront}) on the guest's side: data written through
 * the ring is in the image file, data read is the file's, bad requests are answered and do not
 * stop the device, and a hand-over in the middle of a stream loses and doubles nothing.
 */
class BlockBackendTest {
    private static final int DEVID = 51712;
    private static final int DISK_SECTORS = 16384; // 8 MiB

    @TempDir
    Path dir;
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers, true);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<TestGuest> guests = new ArrayList<>();
    private final List<DirectBus> buses = new ArrayList<>();
    private final Random random = new Random(42);

    @AfterEach
    void tearDown() {
        for (DirectBus b : buses) {
            try {
                b.disconnect();
            } catch (RuntimeException e) {
                // already gone
            }
        }
        guests.forEach(TestGuest::close);
        timers.close();
    }

    private BlockBackend backend() {
        return backend(Map.of());
    }

    private BlockBackend backend(Map<String, ?> config) {
        return new BlockBackend(config, log::add);
    }

    private TestGuest guest(int domid) throws InterruptedException {
        TestGuest g = new TestGuest(host, domid, 4 << 20);
        guests.add(g);
        return g;
    }

    private Path image(String name, int sectors) throws Exception {
        byte[] bytes = new byte[sectors * 512];
        random.nextBytes(bytes);
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private DirectBus bus(TestGuest guest, Path image, boolean readOnly) {
        DirectBus bus = new DirectBus(host, host, guest.domid(), DEVID,
                new DiskSpec(image, "xvda", readOnly).nodes(guest.domid()).backend());
        buses.add(bus);
        return bus;
    }

    /** A guest with a disk, its frontend on a ring of 2^order pages, connected to {@code backend}. */
    private BlkFront connected(TestGuest guest, Path image, boolean readOnly, int order, BlockBackend backend) throws Exception {
        DirectBus bus = bus(guest, image, readOnly);
        bus.probe(backend);
        BlkFront front = new BlkFront(guest, order);
        bus.connect(front.nodes());
        return front;
    }

    private byte[] data(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return b;
    }

    @Test
    void theProbePublishesTheDiskAndTheFeatures() throws Exception {
        TestGuest g = guest(1);
        DirectBus rw = bus(g, image("rw.img", 1000), false);
        rw.probe(backend());
        assertEquals("1000", rw.backend.get("sectors"));
        assertEquals("512", rw.backend.get("sector-size"));
        int physical = Integer.parseInt(rw.backend.get("physical-sector-size"));
        assertTrue(physical >= 512 && 1000 * 512 % physical == 0, "physical-sector-size " + physical);
        assertEquals("0", rw.backend.get("info"));
        assertEquals("1", rw.backend.get("feature-flush-cache"));
        assertEquals("1", rw.backend.get("feature-barrier"));
        assertEquals("4", rw.backend.get("max-ring-page-order"));
        assertNull(rw.backend.get("feature-discard"));
        assertNull(rw.backend.get("feature-persistent"));
        assertNull(rw.backend.get("feature-max-indirect-segments"));

        DirectBus ro = new DirectBus(host, host, 1, DEVID + 16, new DiskSpec(image("ro.img", 9), "xvdb", true).nodes(1).backend());
        ro.probe(backend(Map.of("max.ring.page.order", 0)));
        assertEquals("9", ro.backend.get("sectors"));
        assertEquals("4", ro.backend.get("info"), "VDISK_READONLY");
        assertNull(ro.backend.get("feature-flush-cache"), "nothing to flush on a read-only disk");
        assertNull(ro.backend.get("feature-barrier"));
        assertNull(ro.backend.get("max-ring-page-order"), "order 0: the node is left out");
    }

    @Test
    void theProbeRefusesWhatCannotBeServedWithAClearMessage() throws Exception {
        TestGuest g = guest(2);
        Path ok = image("ok.img", 8);
        Map<String, String> good = new DiskSpec(ok, "xvda", false).nodes(2).backend();
        assertEquals("vbd 51712: " + dir.resolve("missing.img") + ": no such file",
                refusal(g, with(good, "params", dir.resolve("missing.img").toString())));
        assertEquals("vbd 51712: " + dir + ": not a regular file", refusal(g, with(good, "params", dir.toString())));
        Path tiny = dir.resolve("tiny.img");
        Files.write(tiny, new byte[511]);
        assertEquals("vbd 51712: " + tiny + ": 511 bytes, less than one 512-byte sector", refusal(g, with(good, "params", tiny.toString())));
        assertEquals("vbd 51712: relative.img: not an absolute path", refusal(g, with(good, "params", "relative.img")));
        assertEquals("vbd 51712: mode must be r or w: got \"rw\"", refusal(g, with(good, "mode", "rw")));
        Map<String, String> noMode = new HashMap<>(good);
        noMode.remove("mode");
        assertEquals("vbd 51712: mode must be r or w: got none", refusal(g, noMode));
        Map<String, String> noParams = new HashMap<>(good);
        noParams.remove("params");
        assertEquals("vbd 51712: no params node (the image file)", refusal(g, noParams));
        if (ok.toFile().setWritable(false) && !Files.isWritable(ok)) { // root can write anything
            assertTrue(refusal(g, good).endsWith("not readable and writable (mode r serves it read-only)"));
        }
    }

    private static Map<String, String> with(Map<String, String> nodes, String key, String value) {
        Map<String, String> m = new HashMap<>(nodes);
        m.put(key, value);
        return m;
    }

    private String refusal(TestGuest g, Map<String, String> nodes) {
        DirectBus bus = new DirectBus(host, host, g.domid(), DEVID, nodes);
        return assertThrows(XenBusException.class, () -> bus.probe(backend())).getMessage();
    }

    @Test
    void connectRefusesAFrontendItCannotServe() throws Exception {
        TestGuest g = guest(3);
        Path img = image("c.img", 64);
        BlkFront front = new BlkFront(g, 1);
        Map<String, String> nodes = front.nodes();
        assertEquals("dom3-vbd-51712: protocol x86_32-abi (the 32-bit ring layout) is not supported; only x86_64-abi",
                connectRefusal(g, img, with(nodes, "protocol", "x86_32-abi")));
        assertEquals("dom3-vbd-51712: protocol \"arm-abi\" is unknown; only x86_64-abi",
                connectRefusal(g, img, with(nodes, "protocol", "arm-abi")));
        assertEquals("/local/domain/3/device/vbd/51712/ring-page-order must be 0..2: got 3",
                connectRefusal(g, img, with(nodes, "ring-page-order", "3"), Map.of("max.ring.page.order", 2)));
        Map<String, String> noRef = new HashMap<>(nodes);
        noRef.remove("ring-ref1");
        assertEquals("/local/domain/3/device/vbd/51712/ring-ref1 is missing", connectRefusal(g, img, noRef));
        assertTrue(connectRefusal(g, img, with(nodes, "ring-ref1", "500"))
                .startsWith("dom3-vbd-51712: cannot map ring page 1 (grant 500): "), "a ref never granted");
        assertTrue(connectRefusal(g, img, with(nodes, "event-channel", "4000")).startsWith("event-channel 4000: "));
        assertEquals(List.of(), host.backends().stream().filter(b -> !b.bindings().isEmpty()).toList(), "nothing left bound");
    }

    private String connectRefusal(TestGuest g, Path img, Map<String, String> nodes) throws Exception {
        return connectRefusal(g, img, nodes, Map.of());
    }

    private String connectRefusal(TestGuest g, Path img, Map<String, String> nodes, Map<String, ?> config) throws Exception {
        DirectBus bus = new DirectBus(host, host, g.domid(), DEVID, new DiskSpec(img, "xvda", false).nodes(g.domid()).backend());
        bus.probe(backend(config));
        return assertThrows(XenBusException.class, () -> bus.connect(nodes)).getMessage();
    }

    @Test
    void writesReachTheImageAndReadsComeFromIt() throws Exception {
        for (int order : new int[] {0, 2}) {
            TestGuest g = guest(10 + order);
            Path img = image("d" + order + ".img", DISK_SECTORS);
            byte[] expected = Files.readAllBytes(img);
            BlockBackend backend = backend();
            BlkFront front = connected(g, img, false, order, backend);
            assertEquals(List.of("dom" + (10 + order) + "-vbd-51712"), backend.devices());
            for (int i = 0; i < 300; i++) {
                int sectors = 1 + random.nextInt(88);
                long sector = random.nextInt(DISK_SECTORS - sectors + 1);
                byte[] data = data(sectors * 512);
                front.submitWrite(sector, data);
                System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
            }
            front.drain();
            assertTrue(front.statuses().values().stream().allMatch(s -> s == Blkif.RSP_OKAY), front.statuses()::toString);
            assertEquals(Blkif.RSP_OKAY, front.await(front.submitFlush(Blkif.OP_FLUSH_DISKCACHE, 0, new byte[0])));
            assertArrayEquals(expected, Files.readAllBytes(img), "the image holds what was written");
            for (int i = 0; i < 100; i++) {
                int sectors = 1 + random.nextInt(88);
                long sector = random.nextInt(DISK_SECTORS - sectors + 1);
                byte[] got = new byte[sectors * 512];
                assertEquals(Blkif.RSP_OKAY, front.read(sector, got));
                assertArrayEquals(java.util.Arrays.copyOfRange(expected, (int) sector * 512, (int) sector * 512 + got.length), got,
                        "read of " + sectors + " sectors at " + sector);
            }
            assertEquals(List.of(), front.anomalies());
            assertTrue(g.domain().port(front.port()).raised() > 0, "the backend notified the frontend");
        }
        assertEquals(List.of(), log);
    }

    /**
     * Requests of eleven segments, each at its own first_sect..last_sect, on the host's own grant
     * tables: a disk write gathers exactly those sectors of each page, a disk read scatters into
     * exactly those; no grant stays in use after its answer; a revoked fifth grant fails the whole
     * request, and the write writes nothing.
     */
    @Test
    void elevenMappedSegmentsAreGatheredAndScatteredAndARevokedOneFailsTheRequest() throws Exception {
        TestGuest g = guest(23);
        Path img = image("mapped.img", 256);
        byte[] expected = Files.readAllBytes(img);
        BlkFront front = connected(g, img, false, 0, backend());
        Segment[] segs = new Segment[Blkif.MAX_SEGMENTS_PER_REQUEST];
        int total = 0;
        for (int i = 0; i < segs.length; i++) {
            int first = (i * 5) % 8;
            int last = Math.min(7, first + i % 4);
            segs[i] = new Segment(front.bufferRef(i), first, last);
            byte[] page = data(4096);
            front.bufferPage(i).copyFrom(java.lang.foreign.MemorySegment.ofArray(page));
            System.arraycopy(page, first * 512, expected, (40 + total) * 512, (last - first + 1) * 512);
            total += last - first + 1;
        }
        front.submitRaw(BlkifRequest.rw(Blkif.OP_WRITE, 0, 500, 40, segs));
        assertEquals(Blkif.RSP_OKAY, front.await(500));
        assertArrayEquals(expected, Files.readAllBytes(img), total + " sectors gathered from eleven pages");
        for (int i = 0; i < segs.length; i++) {
            assertEquals(0, g.grantFlags(front.bufferRef(i)) & (GrantEntry.GTF_READING | GrantEntry.GTF_WRITING),
                    "grant " + i + " not in use after the answer");
        }

        for (int i = 0; i < segs.length; i++) {
            front.bufferPage(i).fill((byte) 0x77);
        }
        front.submitRaw(BlkifRequest.rw(Blkif.OP_READ, 0, 501, 41, segs));
        assertEquals(Blkif.RSP_OKAY, front.await(501));
        int sector = 41;
        for (int i = 0; i < segs.length; i++) {
            byte[] page = front.bufferPage(i).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            for (int s = 0; s < 8; s++) {
                byte[] want = new byte[512];
                if (s >= segs[i].firstSect() && s <= segs[i].lastSect()) {
                    System.arraycopy(expected, sector++ * 512, want, 0, 512);
                } else {
                    java.util.Arrays.fill(want, (byte) 0x77);
                }
                assertArrayEquals(want, java.util.Arrays.copyOfRange(page, s * 512, s * 512 + 512), "segment " + i + ", sector " + s);
            }
            assertEquals(0, g.grantFlags(front.bufferRef(i)) & (GrantEntry.GTF_READING | GrantEntry.GTF_WRITING));
        }

        g.revoke(front.bufferRef(4));
        for (int i = 0; i < segs.length; i++) {
            front.bufferPage(i).fill((byte) 0x33);
        }
        front.submitRaw(BlkifRequest.rw(Blkif.OP_WRITE, 0, 502, 40, segs));
        assertEquals(Blkif.RSP_ERROR, front.await(502));
        assertArrayEquals(expected, Files.readAllBytes(img), "not one sector written, not even the first four segments'");
        front.submitRaw(BlkifRequest.rw(Blkif.OP_READ, 0, 503, 40, segs));
        assertEquals(Blkif.RSP_ERROR, front.await(503));
        assertEquals(0x33, front.bufferPage(0).get(java.lang.foreign.ValueLayout.JAVA_BYTE, segs[0].firstSect() * 512),
                "a refused read reads into no page");
        for (int i = 0; i < segs.length; i++) {
            assertEquals(0, g.grantFlags(front.bufferRef(i)) & (GrantEntry.GTF_READING | GrantEntry.GTF_WRITING),
                    "the segments mapped before the refusal were unmapped");
        }
        assertEquals(List.of(), front.anomalies());
        assertEquals(List.of("dom23-vbd-51712: write answered ERROR: a segment's grant refused by the grant tables",
                "dom23-vbd-51712: read answered ERROR: a segment's grant refused by the grant tables"), log);
    }

    @Test
    void aReadOnlyDiskServesReadsAndAnswersWritesWithAnError() throws Exception {
        TestGuest g = guest(20);
        Path img = image("ro.img", 256);
        byte[] before = Files.readAllBytes(img);
        BlkFront front = connected(g, img, true, 0, backend());
        assertEquals(Blkif.RSP_ERROR, front.write(0, data(4096)));
        assertEquals(Blkif.RSP_EOPNOTSUPP, front.await(front.submitFlush(Blkif.OP_FLUSH_DISKCACHE, 0, new byte[0])));
        byte[] got = new byte[8192];
        assertEquals(Blkif.RSP_OKAY, front.read(100, got));
        assertArrayEquals(java.util.Arrays.copyOfRange(before, 100 * 512, 100 * 512 + 8192), got);
        assertArrayEquals(before, Files.readAllBytes(img));
        assertEquals(List.of("dom20-vbd-51712: write answered ERROR: a write to a read-only disk",
                "dom20-vbd-51712: flush-diskcache answered EOPNOTSUPP: an operation not offered"), log);
    }

    @Test
    void malformedRequestsAreAnsweredOnceAndTheDeviceGoesOn() throws Exception {
        TestGuest g = guest(21);
        Path img = image("bad.img", 64);
        byte[] before = Files.readAllBytes(img);
        BlkFront front = connected(g, img, false, 0, backend());
        int ref = front.bufferRef(0);
        long id = 1000;
        List<BlkifRequest> bad = List.of(
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, 0),
                new BlkifRequest(Blkif.OP_WRITE, 200, 0, id++, 0, new byte[88]),
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, 0, new Segment(ref, 5, 4)),
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, 0, new Segment(ref, 0, 8)),
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, 60, new Segment(ref, 0, 7)),
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, -8, new Segment(ref, 0, 7)),
                BlkifRequest.rw(Blkif.OP_WRITE, 0, id++, 0, new Segment(ref, 0, 7), new Segment(400, 0, 7)),
                BlkifRequest.rw(Blkif.OP_READ, 0, id++, 0, new Segment(0xFFFF_FFF0, 0, 7)),
                new BlkifRequest(Blkif.OP_DISCARD, 0, 0, id++, 0, new byte[88]),
                new BlkifRequest(Blkif.OP_INDIRECT, 1, 0, id++, 0, new byte[88]),
                new BlkifRequest(99, 1, 0, id++, 0, new byte[88]));
        for (BlkifRequest r : bad) {
            front.submitRaw(r);
            byte[] good = data(1024);
            assertEquals(Blkif.RSP_OKAY, front.await(front.submitWrite(8, good)), "a good write after " + r);
            byte[] back = new byte[1024];
            assertEquals(Blkif.RSP_OKAY, front.read(8, back));
            assertArrayEquals(good, back);
            System.arraycopy(good, 0, before, 8 * 512, 1024);
        }
        front.drain();
        for (long i = 1000; i < 1008; i++) {
            assertEquals(Blkif.RSP_ERROR, front.statuses().get(i), "request " + i);
        }
        for (long i = 1008; i < 1011; i++) {
            assertEquals(Blkif.RSP_EOPNOTSUPP, front.statuses().get(i), "request " + i);
        }
        assertEquals(List.of(), front.anomalies());
        assertArrayEquals(before, Files.readAllBytes(img), "only the good writes were written");
        assertEquals(RingServer.LOGGED_REFUSALS, log.size(), log::toString);
        assertTrue(log.get(RingServer.LOGGED_REFUSALS - 1).endsWith("(further refusals counted, not logged)"));
    }

    @Test
    void aHandOverInTheMiddleOfAStreamLosesAndDoublesNothing() throws Exception {
        TestGuest g = guest(30);
        Path img = image("h.img", DISK_SECTORS);
        byte[] expected = Files.readAllBytes(img);
        DirectBus bus = bus(g, img, false);
        bus.probe(backend());
        BlkFront front = new BlkFront(g, 1);
        bus.connect(front.nodes());

        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger handOvers = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        Thread swapper = Thread.ofPlatform().start(() -> {
            try {
                while (!done.get()) {
                    Thread.sleep(15);
                    bus.handOver(backend()); // the old instance goes, a new one takes the ring up
                    handOvers.incrementAndGet();
                }
            } catch (Throwable t) {
                errors.add(t);
            }
        });
        int writes = 0;
        while (writes < 4000 || handOvers.get() < 20) {
            int sectors = 1 + random.nextInt(88);
            long sector = random.nextInt(DISK_SECTORS - sectors + 1);
            byte[] data = data(sectors * 512);
            front.submitWrite(sector, data);
            System.arraycopy(data, 0, expected, (int) sector * 512, data.length); // ring order is the order done
            writes++;
        }
        front.drain();
        done.set(true);
        swapper.join();
        assertEquals(List.of(), List.copyOf(errors));
        assertEquals(writes, front.statuses().size(), "every request answered");
        assertTrue(front.statuses().values().stream().allMatch(s -> s == Blkif.RSP_OKAY));
        assertEquals(List.of(), front.anomalies(), "no answer twice, none to a request never sent");
        assertArrayEquals(expected, Files.readAllBytes(img), "the image is exactly what was written, in order");
        assertEquals(List.of(), log);
        assertTrue(handOvers.get() >= 20, "hand-overs: " + handOvers.get());
    }

    @Test
    void disconnectEndsTheThreadAndLetsThePortGo() throws Exception {
        TestGuest g = guest(31);
        DirectBus bus = bus(g, image("x.img", 64), false);
        BlockBackend backend = backend();
        bus.probe(backend);
        BlkFront front = new BlkFront(g, 0);
        bus.connect(front.nodes());
        assertEquals(Blkif.RSP_OKAY, front.write(0, data(512)));
        assertTrue(threadRuns("dom31-vbd-51712"));
        bus.disconnect();
        assertEquals(List.of(), backend.devices());
        assertFalse(threadRuns("dom31-vbd-51712"));
        assertTrue(host.backends().stream().noneMatch(b -> b.name().equals(bus.handleName())));
    }

    @Test
    void aBackendDeactivatedWithoutAHandOverEndsItsDevicesItself() throws Exception {
        TestGuest g = guest(32);
        BlockBackend backend = backend();
        BlkFront front = connected(g, image("y.img", 64), false, 0, backend);
        assertEquals(Blkif.RSP_OKAY, front.write(0, data(512)));
        long start = System.nanoTime();
        backend.deactivate();
        assertTrue(System.nanoTime() - start >= BlockBackend.HAND_OVER_WAIT_MS * 1_000_000L, "it waited for the bus");
        assertEquals(List.of(), backend.devices());
        assertFalse(threadRuns("dom32-vbd-51712"));
        assertEquals(List.of("dom32-vbd-51712: not handed over by the bus; ended (its ring answered up to the last request taken)"), log);
    }

    private static boolean threadRuns(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
