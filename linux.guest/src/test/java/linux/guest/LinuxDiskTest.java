package linux.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kvm.provider.xen.KvmGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.bus.DiskSpec;

/**
 * Debian's kernel with a disk: its own xen-blkfront (from the same kernel package, loaded by the
 * initramfs) on this project's bus and vbd backend, a raw image file on the host. The initramfs's
 * disk test ({@link Initramfs#diskTest()}, chosen by {@code disktest=MODE} on the command line)
 * makes an ext2 file system and writes files in one boot, reads them back in a second; a read-only
 * disk serves reads and refuses a write. The host checks what it can see itself: the file system's
 * superblock in the image, the bytes a read-only disk served, and that nothing was written to it.
 */
class LinuxDiskTest {
    static final int SECTOR = DiskSpec.SECTOR_SIZE;
    static final String SUM = "([0-9a-f]{64})";

    private StockLinux.Guest linux;

    /** Per test, so that a skip is reported as one; the kernel is fetched once and cached. */
    @BeforeEach
    void kvmAndDebiansKernel() throws IOException {
        linux = LinuxSession.stockLinux();
    }

    @Test
    void filesWrittenInOneBootAreReadInTheNext(@TempDir Path dir) throws Exception {
        long size = 64L << 20;
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(size); // sparse, zeros
        }
        String wrote;
        try (LinuxSession s = boot("write", DiskSpec.parse(image.toString()))) {
            s.expect(Pattern.quote(Initramfs.DISK_TEST + "/dev/xvda " + size / SECTOR + " sectors ro=0"), LinuxSession.BOOT);
            wrote = s.expect(Pattern.quote(Initramfs.DISK_TEST) + "wrote " + SUM, LinuxSession.COMMAND).group(1);
            assertPoweredOff(s);
        }
        // ext2's superblock at 1024: s_blocks_count at 4, s_log_block_size at 24, s_magic 0xEF53 at 56.
        ByteBuffer sb = ByteBuffer.wrap(read(image, 1024, 1024)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xEF53, sb.getShort(56) & 0xffff, "the guest's mke2fs reached the image file");
        assertEquals(size, (sb.getInt(4) & 0xffffffffL) * (1024L << sb.getInt(24)),
                "the file system fills the disk: the guest saw the image's size");

        byte[] before = Files.readAllBytes(image);
        try (LinuxSession s = boot("read", DiskSpec.parse(image + ",ro"))) {
            s.expect(Pattern.quote(Initramfs.DISK_TEST + "/dev/xvda " + size / SECTOR + " sectors ro=1"), LinuxSession.BOOT);
            String read = s.expect(Pattern.quote(Initramfs.DISK_TEST) + "read " + SUM, LinuxSession.COMMAND).group(1);
            assertEquals(wrote, read, () -> "the files read back are those written\n" + s);
            assertPoweredOff(s);
        }
        assertTrue(Arrays.equals(before, Files.readAllBytes(image)), "a read-only disk's image is not written");
    }

    @Test
    void aReadOnlyDiskServesReadsAndRefusesWrites(@TempDir Path dir) throws Exception {
        byte[] bytes = new byte[4 << 20];
        new Random(42).nextBytes(bytes);
        Path image = Files.write(dir.resolve("ro.img"), bytes);
        String firstMib = sha256(Arrays.copyOf(bytes, 1 << 20));
        try (LinuxSession s = boot("readonly", DiskSpec.parse(image + ",ro"))) {
            s.expect(Pattern.quote(Initramfs.DISK_TEST + "/dev/xvda " + bytes.length / SECTOR + " sectors ro=1"),
                    LinuxSession.BOOT);
            Matcher served = s.expect(Pattern.quote(Initramfs.DISK_TEST) + "first-mib " + SUM, LinuxSession.COMMAND);
            assertEquals(firstMib, served.group(1), () -> "the guest read the image's bytes\n" + s);
            s.expect(Pattern.quote(Initramfs.DISK_TEST) + "write refused", LinuxSession.COMMAND);
            assertPoweredOff(s);
            assertTrue(!s.printed().contains(Initramfs.DISK_TEST + "FAILED"), s::toString);
        }
        assertArrayEquals(bytes, Files.readAllBytes(image), "nothing was written to the read-only image");
    }

    @Test
    void aBackendUpdatedDuringALongWriteLosesNothing(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("disk.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(64L << 20);
        }
        int swaps = 0;
        String streamed;
        try (LinuxSession s = boot("stream", DiskSpec.parse(image.toString()))) {
            long bytes = Long.parseLong(s.expect(Pattern.quote(Initramfs.DISK_TEST) + "streaming (\\d+)", LinuxSession.BOOT)
                    .group(1));
            assertEquals(32L << 20, bytes);
            // Update the backend again and again while the guest's dd runs, as a bundle update would.
            Pattern done = Pattern.compile(Pattern.quote(Initramfs.DISK_TEST) + "(streamed " + SUM + "|FAILED.*)");
            long deadline = System.nanoTime() + LinuxSession.COMMAND.toNanos();
            Matcher m;
            while (!(m = done.matcher(s.printed())).find()) {
                assertTrue(System.nanoTime() - deadline < 0, () -> "the guest's write did not end\n" + s);
                s.devices().swapBackend();
                swaps++;
                Thread.sleep(20);
            }
            assertTrue(m.group(1).startsWith("streamed"), s::toString);
            streamed = m.group(2);
            assertPoweredOff(s);
            assertTrue(swaps >= 2, "the backend was swapped " + swaps + " times during the write: too fast to tell");
            assertEquals(List.of(), s.log.stream().filter(line -> line.startsWith("xen.block: ") || line.startsWith("xen.bus: "))
                    .toList(), "the bus and the backends had nothing to report");
        }
        assertEquals(streamed, sha256(read(image, 0, 32 << 20)),
                "the image holds exactly what the guest wrote across " + swaps + " backend updates");
    }

    private LinuxSession boot(String mode, DiskSpec disk) throws IOException {
        return new LinuxSession(linux, 1, Initramfs.DISK_TEST_PARAMETER + "=" + mode, List.of(disk));
    }

    /** The test powers the guest off when it is done; a FAILED line would come before. */
    private static void assertPoweredOff(LinuxSession s) throws InterruptedException {
        KvmGuest.Outcome outcome = s.guest.await(LinuxSession.COMMAND);
        assertNotNull(outcome, () -> "still running after the disk test\n" + s);
        assertEquals(new KvmGuest.Outcome(SchedOp.SHUTDOWN_POWEROFF, null), outcome, s::toString);
        assertTrue(!s.printed().contains(Initramfs.DISK_TEST + "FAILED"), s::toString);
    }

    private static byte[] read(Path file, long offset, int length) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            byte[] b = new byte[length];
            f.seek(offset);
            f.readFully(b);
            return b;
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
