package benchmarks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;
import kvm.provider.timer.PortableTimerProvider;
import xen.block.backend.BlockBackend;
import xen.block.front.BlkFront;
import xen.block.front.DirectBus;
import xen.block.front.TestGuest;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.impl.host.HostComponent;

/**
 * Block throughput through the PV ring against the same file used directly, in one run: a host on
 * software vCPUs, the xen.block backend serving a raw image, a Java blkfront (one thread, up to
 * {@value BlkFront#BUFFERS} requests in flight on a one-page ring, as Linux's blkfront by default)
 * reading and writing it; then the same access pattern with positional FileChannel calls on one
 * thread, the same bytes at the same offsets. Sequential 1 MiB I/Os (each 24 requests of at most 11
 * pages) and random 4 KiB ones. Each row: a warm-up of each side, then rounds alternating ring and
 * file, so that a change in the machine's load hits both; the table gives each side's median round
 * and their ratio. The frontend's own work (its copies into and out of its granted pages, its
 * bookkeeping) counts on the ring's side, as a guest's would. The image lives in the page cache for
 * both (no O_DIRECT, no fsync in the timed part): the table compares the ring's cost with the
 * file's. {@code -Dblock.dir=DIR} puts the image elsewhere (default java.io.tmpdir),
 * {@code -Dblock.mib=N} sizes it (default 256), {@code -Dblock.rounds=N} (default 5) and
 * {@code -Dblock.seconds=S} (default 1.5) set the rounds.
 */
public final class BlockThroughput {
    private static final double SECONDS = Double.parseDouble(System.getProperty("block.seconds", "1.5"));
    private static final int ROUNDS = Integer.getInteger("block.rounds", 5);
    private static final int MIB = 1 << 20;
    private static final int MAX_REQUEST = Blkif.MAX_SEGMENTS_PER_REQUEST * 4096;

    private interface Io {
        /** Issues one I/O of {@code bytes} at byte {@code offset}. */
        void io(long offset, int bytes) throws IOException;

        /** Waits for every I/O issued. */
        void drain();
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(System.getProperty("block.dir", System.getProperty("java.io.tmpdir")));
        long size = Long.getLong("block.mib", 256) * MIB;
        Path img = Files.createTempFile(dir, "block-bench", ".img");
        try {
            byte[] fill = new byte[MIB];
            new Random(1).nextBytes(fill);
            try (FileChannel f = FileChannel.open(img, StandardOpenOption.WRITE)) {
                for (long at = 0; at < size; at += MIB) {
                    f.write(ByteBuffer.wrap(fill), at);
                }
            }
            run(img, size);
        } finally {
            Files.deleteIfExists(img);
        }
    }

    private static void run(Path img, long size) throws Exception {
        PortableTimerProvider timers = new PortableTimerProvider();
        HostComponent host = new HostComponent(timers);
        try (TestGuest guest = new TestGuest(host, 1, 4 << 20);
                FileChannel file = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            DiskSpec disk = new DiskSpec(img, "xvda", false);
            DirectBus bus = new DirectBus(host, host, 1, disk.devid(), disk.nodes(1).backend());
            bus.probe(new BlockBackend(Map.of(), line -> System.err.println("xen.block: " + line)));
            BlkFront front = new BlkFront(guest, 0);
            bus.connect(front.nodes());
            System.out.printf("image %d MiB in %s (%s); ring of %d slots, %d requests in flight at most; "
                    + "medians of %d rounds of %.1f s, ring and file alternating%n",
                    size / MIB, img.getParent(), Files.getFileStore(img).type(), front.slots(), BlkFront.BUFFERS, ROUNDS, SECONDS);
            System.out.printf("%-18s %11s %11s %11s %11s %10s%n", "I/O", "ring MB/s", "ring IOPS", "file MB/s", "file IOPS",
                    "ring/file");
            row("seq write 1 MiB", size, MIB, true, true, front, file);
            row("seq read 1 MiB", size, MIB, true, false, front, file);
            row("rand write 4 KiB", size, 4096, false, true, front, file);
            row("rand read 4 KiB", size, 4096, false, false, front, file);
            bus.disconnect();
        } finally {
            timers.close();
        }
    }

    private static void row(String name, long size, int ioBytes, boolean sequential, boolean write, BlkFront front,
            FileChannel file) throws IOException {
        Io ring = ringIo(front, write);
        Io direct = fileIo(file, write);
        Random random = new Random(2);
        long[] next = {0};
        measure(size, ioBytes, sequential, ring, 1, random, next); // warm-up
        measure(size, ioBytes, sequential, direct, 1, random, next);
        double[][] ringRounds = new double[ROUNDS][];
        double[][] fileRounds = new double[ROUNDS][];
        for (int r = 0; r < ROUNDS; r++) {
            ringRounds[r] = measure(size, ioBytes, sequential, ring, SECONDS, random, next);
            checked(front);
            fileRounds[r] = measure(size, ioBytes, sequential, direct, SECONDS, random, next);
        }
        double ringMb = median(ringRounds, 0);
        double fileMb = median(fileRounds, 0);
        System.out.printf("%-18s %11.1f %11.0f %11.1f %11.0f %10.2f%n", name, ringMb, median(ringRounds, 1), fileMb,
                median(fileRounds, 1), ringMb / fileMb);
    }

    /** Every request answered OKAY, and nothing odd seen; then the answers are forgotten, so that they do not pile up. */
    private static void checked(BlkFront front) {
        if (!front.anomalies().isEmpty() || front.statuses().values().stream().anyMatch(s -> s != Blkif.RSP_OKAY)) {
            throw new AssertionError("the ring failed: " + front.anomalies());
        }
        front.forgetStatuses();
    }

    private static double median(double[][] rounds, int column) {
        double[] values = new double[rounds.length];
        for (int i = 0; i < rounds.length; i++) {
            values[i] = rounds[i][column];
        }
        java.util.Arrays.sort(values);
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    /** MB/s (10^6 bytes) and I/Os per second over {@code seconds}; sequential I/Os go on from {@code next[0]}. */
    private static double[] measure(long size, int ioBytes, boolean sequential, Io io, double seconds, Random random,
            long[] next) throws IOException {
        long ios = size / ioBytes;
        long limit = (long) (seconds * 1e9);
        long start = System.nanoTime();
        long done = 0;
        while (System.nanoTime() - start < limit) {
            for (int i = 0; i < 16; i++) {
                long at = sequential ? (next[0]++ % ios) * ioBytes : (long) random.nextInt((int) ios) * ioBytes;
                io.io(at, ioBytes);
                done++;
            }
        }
        io.drain();
        long took = System.nanoTime() - start;
        return new double[] {done * (double) ioBytes / took * 1e3, done / (took / 1e9)};
    }

    private static Io ringIo(BlkFront front, boolean write) {
        byte[] whole = new byte[MAX_REQUEST];
        new Random(3).nextBytes(whole);
        byte[][] bySize = new byte[MAX_REQUEST / 4096 + 1][];
        for (int pages = 1; pages < bySize.length; pages++) {
            bySize[pages] = java.util.Arrays.copyOf(whole, pages * 4096);
        }
        return new Io() {
            @Override
            public void io(long offset, int bytes) {
                for (int done = 0; done < bytes; done += MAX_REQUEST) {
                    byte[] data = bySize[Math.min(MAX_REQUEST, bytes - done) / 4096];
                    long sector = (offset + done) / 512;
                    if (write) {
                        front.submitWrite(sector, data);
                    } else {
                        front.submitRead(sector, data);
                    }
                }
            }

            @Override
            public void drain() {
                front.drain();
            }
        };
    }

    private static Io fileIo(FileChannel file, boolean write) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(MIB);
        return new Io() {
            @Override
            public void io(long offset, int bytes) throws IOException {
                buffer.clear().limit(bytes);
                long at = offset;
                while (buffer.hasRemaining()) {
                    int n = write ? file.write(buffer, at) : file.read(buffer, at);
                    if (n < 0) {
                        throw new IOException("end of the image at " + at);
                    }
                    at += n;
                }
            }

            @Override
            public void drain() {
            }
        };
    }
}
