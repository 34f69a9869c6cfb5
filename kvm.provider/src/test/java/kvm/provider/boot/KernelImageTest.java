package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** {@link KernelImage} on bzImages built here around a small ELF, and on Debian's kernel if it is at hand. */
class KernelImageTest {
    /** The system property naming a bzImage (or ELF) to test on instead of the cache's Debian kernel. */
    static final String KERNEL_PROPERTY = "kernel.image";

    /** Not a loadable ELF, only its magic and some bytes that compress: enough for extraction. */
    static final byte[] ELF = elfLike();

    static byte[] elfLike() {
        byte[] b = new byte[600];
        b[0] = 0x7f;
        b[1] = 'E';
        b[2] = 'L';
        b[3] = 'F';
        for (int i = 4; i < b.length; i++) {
            b[i] = (byte) (i % 7 == 0 ? i : 'k');
        }
        return b;
    }

    /**
     * A bzImage: setup sectors with the header fields the extraction reads, then the payload
     * {@code payload_offset} bytes into the protected-mode code, then some trailing code.
     */
    static byte[] bzImage(int setupSects, int version, int payloadOffset, byte[] payload) {
        int code = ((setupSects == 0 ? 4 : setupSects) + 1) * 512;
        byte[] k = new byte[code + payloadOffset + payload.length + 100];
        k[0x1f1] = (byte) setupSects;
        k[0x1fe] = 0x55;
        k[0x1ff] = (byte) 0xaa;
        k[0x202] = 'H';
        k[0x203] = 'd';
        k[0x204] = 'r';
        k[0x205] = 'S';
        put16(k, 0x206, version);
        put32(k, 0x248, payloadOffset);
        put32(k, 0x24c, payload.length);
        System.arraycopy(payload, 0, k, code + payloadOffset, payload.length);
        return k;
    }

    /** The payload as the kernel build writes it: the compressed data, then the size as a u32 LE. */
    static byte[] withSize(byte[] compressed, int size) {
        byte[] p = Arrays.copyOf(compressed, compressed.length + 4);
        put32(p, compressed.length, size);
        return p;
    }

    static byte[] lz4(byte[] data) {
        return Lz4Test.legacy(Lz4Test.GreedyCompressor.compress(data));
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray(); // ends with ISIZE: the build appends nothing more
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v);
        put16(b, at + 2, v >>> 16);
    }

    static IllegalArgumentException refused(byte[] kernel, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelImage.elf(kernel));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
        return e;
    }

    @Test
    void anElfIsReturnedAsItIs() {
        assertSame(ELF, KernelImage.elf(ELF));
    }

    @Test
    void anLz4BzImageYieldsItsElf() {
        byte[] k = bzImage(27, 0x20f, 0x2cc, withSize(lz4(ELF), ELF.length));
        assertArrayEquals(ELF, KernelImage.elf(k));
        // setup_sects 0 means 4; a payload right at the code's start.
        assertArrayEquals(ELF, KernelImage.elf(bzImage(0, 0x208, 0, withSize(lz4(ELF), ELF.length))));
    }

    @Test
    void aGzipBzImageYieldsItsElf() {
        assertArrayEquals(ELF, KernelImage.elf(bzImage(4, 0x20c, 0x100, gzip(ELF))));
    }

    @Test
    void anUncompressedPayloadIsTheElfBeforeTheSize() {
        assertArrayEquals(ELF, KernelImage.elf(bzImage(4, 0x20c, 0x100, withSize(ELF, ELF.length))));
    }

    @Test
    void otherCompressionsAreRefusedByName() {
        byte[][] magics = {
            {(byte) 0xfd, '7', 'z', 'X', 'Z', 0, 0, 4},
            {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0},
            {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26},
            {0x5d, 0, 0, (byte) 0x80, 0, -1, -1, -1},
            {(byte) 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a},
            {0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, (byte) 0xa7, 0},
        };
        String[] names = {"xz", "zstd", "bzip2", "lzma", "lzo", "LZ4 (frame format)"};
        for (int i = 0; i < magics.length; i++) {
            byte[] payload = withSize(Arrays.copyOf(magics[i], 64), 1000);
            refused(bzImage(4, 0x20f, 0, payload), "is " + names[i] + "-compressed", "extract-vmlinux");
        }
        refused(bzImage(4, 0x20f, 0, withSize(new byte[64], 1000)), "unknown format (first bytes 00 00 00",
                "extract-vmlinux");
    }

    @Test
    void theRecordedSizeMustMatch() {
        refused(bzImage(4, 0x20f, 0, withSize(lz4(ELF), ELF.length + 1)), "decompressed to 600 bytes",
                "record 601");
        refused(bzImage(4, 0x20f, 0, withSize(lz4(ELF), ELF.length - 1)), "maximum output of 599 bytes");
        refused(bzImage(4, 0x20f, 0, withSize(lz4(ELF), -1)), "decompressed size of 4294967295 bytes");
        byte[] gz = gzip(ELF);
        put32(gz, gz.length - 4, ELF.length - 1);
        refused(bzImage(4, 0x20f, 0, gz), "more than the 599 bytes");
        gz[gz.length - 8] ^= 1; // the CRC32 before ISIZE
        put32(gz, gz.length - 4, ELF.length);
        refused(bzImage(4, 0x20f, 0, gz), "gzip payload at file offset 0xa00 is malformed");
    }

    @Test
    void thePayloadMustBeAnElf() {
        byte[] text = new byte[300];
        Arrays.fill(text, (byte) 'x');
        refused(bzImage(4, 0x20f, 0, withSize(lz4(text), text.length)), "is not an ELF vmlinux");
        refused(bzImage(4, 0x20f, 0, gzip(text)), "(gzip)", "is not an ELF vmlinux");
    }

    @Test
    void malformedHeadersAreRefused() {
        byte[] payload = withSize(lz4(ELF), ELF.length);
        refused(bzImage(4, 0x207, 0, payload), "boot protocol 2.7 at offset 0x206");
        byte[] beyond = bzImage(4, 0x20f, 0, payload);
        put32(beyond, 0x24c, beyond.length);
        refused(beyond, "runs past the file's");
        byte[] far = bzImage(4, 0x20f, 0, payload);
        put32(far, 0x248, -1);
        refused(far, "payload_offset 0xffffffff");
        byte[] tiny = bzImage(4, 0x20f, 0, payload);
        put32(tiny, 0x24c, 7);
        refused(tiny, "is only 7 bytes");
        // Errors inside the payload give file offsets: 0xa00 + magic + block size + token + literal.
        byte[] broken = withSize(Lz4Test.legacy(new byte[] {0x10, 0x7f, 0, 0, 0x00}), ELF.length);
        refused(bzImage(4, 0x20f, 0, broken), "match offset 0 at input offset 2570");
    }

    @Test
    void nonKernelsAreRefused() {
        refused(new byte[0], "not a kernel image", "in 0 bytes");
        refused("#!/bin/sh\necho not a kernel\n".getBytes(StandardCharsets.US_ASCII), "not a kernel image");
        refused(new byte[4096], "not a kernel image");
        refused(Arrays.copyOf(bzImage(4, 0x20f, 0, withSize(lz4(ELF), ELF.length)), 0x24f), "not a kernel image");
    }

    /**
     * Debian's cloud kernel (linux.guest's cache has it after a StockLinux run; or the file the
     * system property {@value #KERNEL_PROPERTY} names): an ELF64 x86-64 PVH image comes out.
     */
    @Test
    void debiansCloudKernelYieldsAPvhElf() throws IOException {
        Optional<Path> kernel = realKernel();
        assumeTrue(kernel.isPresent(), () -> "no Debian kernel: neither -D" + KERNEL_PROPERTY + "=<bzImage> nor a"
                + " boot/vmlinuz-* under " + cacheDir() + " (linux.guest's StockLinux puts one there)");
        byte[] file = Files.readAllBytes(kernel.get());
        long[] times = new long[3];
        byte[] elf = null;
        for (int i = 0; i < times.length; i++) {
            long t = System.nanoTime();
            elf = KernelImage.elf(file);
            times[i] = System.nanoTime() - t;
        }
        System.out.printf("%s: %d bytes of ELF, extracted in %.1f ms (first), %.1f ms (third)%n", kernel.get(),
                elf.length, times[0] / 1e6, times[2] / 1e6);
        assertEquals(2, elf[4], "ELFCLASS64");
        assertEquals(62, (elf[18] & 0xff) | (elf[19] & 0xff) << 8, "EM_X86_64");
        PvhImage image = PvhImage.parse(elf); // finds XEN_ELFNOTE_PHYS32_ENTRY or throws
        assertTrue(image.entry() > 0 && image.entry() < (1L << 32), () -> "entry 0x" + Long.toHexString(image.entry()));
    }

    /** ${XDG_CACHE_HOME:-$HOME/.cache}/xen-evtchn/debian, where linux.guest keeps what it fetched. */
    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("xen-evtchn").resolve("debian");
    }

    static Optional<Path> realKernel() throws IOException {
        String property = System.getProperty(KERNEL_PROPERTY);
        if (property != null && !property.isEmpty()) {
            return Optional.of(Path.of(property)).filter(Files::isRegularFile);
        }
        if (!Files.isDirectory(cacheDir())) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.find(cacheDir(), 5, (p, a) -> a.isRegularFile()
                && p.getFileName().toString().startsWith("vmlinuz-") && p.getParent().endsWith("boot"))) {
            return files.max(Comparator.naturalOrder());
        }
    }
}
