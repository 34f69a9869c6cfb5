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
 * thread. Sequential 1 MiB I/Os (each 24 requests of at most 11 pages) and random 4 KiB ones, for
 * {@value #SECONDS} s each after a warm-up. The image lives in the page cache for both (no
 * O_DIRECT, no fsync in the timed part): the table compares the ring's cost with the file's.
 * Prints a table; {@code -Dblock.dir=DIR} puts the image elsewhere (default java.io.tmpdir),
 * {@code -Dblock.mib=N} sizes it (default 256).
 */
public final class BlockThroughput {
    private static final double SECONDS = 3;
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
            System.out.printf("image %d MiB in %s (%s); ring of %d slots, %d requests in flight at most%n",
                    size / MIB, img.getParent(), Files.getFileStore(img).type(), front.slots(), BlkFront.BUFFERS);
            System.out.printf("%-18s %11s %11s %11s %11s %10s%n", "I/O", "ring MB/s", "ring IOPS", "file MB/s", "file IOPS",
                    "ring/file");
            row("seq write 1 MiB", size, MIB, true, true, front, file);
            row("seq read 1 MiB", size, MIB, true, false, front, file);
            row("rand write 4 KiB", size, 4096, false, true, front, file);
            row("rand read 4 KiB", size, 4096, false, false, front, file);
            if (!front.anomalies().isEmpty() || front.statuses().values().stream().anyMatch(s -> s != Blkif.RSP_OKAY)) {
                throw new AssertionError("the ring failed: " + front.anomalies());
            }
            bus.disconnect();
        } finally {
            timers.close();
        }
    }

    private static void row(String name, long size, int ioBytes, boolean sequential, boolean write, BlkFront front,
            FileChannel file) throws IOException {
        double[] ring = measure(size, ioBytes, sequential, ringIo(front, write));
        double[] direct = measure(size, ioBytes, sequential, fileIo(file, write));
        System.out.printf("%-18s %11.1f %11.0f %11.1f %11.0f %10.2f%n", name, ring[0], ring[1], direct[0], direct[1],
                ring[0] / direct[0]);
    }

    /** MB/s (10^6 bytes) and I/Os per second over {@value #SECONDS} s, after a 1 s warm-up. */
    private static double[] measure(long size, int ioBytes, boolean sequential, Io io) throws IOException {
        Random random = new Random(2);
        long ios = size / ioBytes;
        long next = 0;
        for (int phase = 0; phase < 2; phase++) {
            long limit = (long) ((phase == 0 ? 1 : SECONDS) * 1e9);
            long start = System.nanoTime();
            long done = 0;
            while (System.nanoTime() - start < limit) {
                for (int i = 0; i < 16; i++) {
                    long at = sequential ? (next++ % ios) * ioBytes : (long) random.nextInt((int) ios) * ioBytes;
                    io.io(at, ioBytes);
                    done++;
                }
            }
            io.drain();
            long took = System.nanoTime() - start;
            if (phase == 1) {
                return new double[] {done * (double) ioBytes / took * 1e3, done / (took / 1e9)};
            }
        }
        throw new AssertionError();
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
