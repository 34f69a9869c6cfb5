package kvm.provider.boot;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The ELF vmlinux of a kernel file: an ELF as it is, or the payload of an x86 bzImage, which
 * distributions ship as /boot/vmlinuz-*, decompressed. A PVH boot needs the ELF: the bzImage's own
 * decompressor runs only through the 16/32/64-bit boot protocols.
 *
 * <p>The bzImage facts used: the setup header at 0x1f1 (setup_sects at 0x1f1, 0 meaning 4; "HdrS"
 * at 0x202; the protocol version u16 at 0x206, 2.08 or later for the payload fields);
 * payload_offset u32 at 0x248 and payload_length u32 at 0x24c, counted from the protected-mode
 * code at (setup_sects + 1) * 512; the build appends the decompressed size as the payload's last
 * four bytes (for gzip that is its ISIZE trailer). LZ4 legacy (Debian), gzip and uncompressed
 * payloads are decompressed here; the others are refused by name.
 *
 * <p>The file is untrusted: every malformation is an {@link IllegalArgumentException} saying what
 * is wrong and where, arithmetic is checked, and the output grows with the data decoded, up to the
 * recorded size (itself at most {@link #MAX_VMLINUX}).
 */
public final class KernelImage {
    /** The largest vmlinux accepted: distribution kernels are 30-100 MB. */
    public static final int MAX_VMLINUX = 1 << 30;
    static final int SETUP_SECTS = 0x1f1;
    static final int HEADER_MAGIC = 0x202;
    static final int VERSION = 0x206;
    static final int PAYLOAD_OFFSET = 0x248;
    static final int PAYLOAD_LENGTH = 0x24c;
    /** Protocol 2.08 added payload_offset/payload_length. */
    static final int MIN_VERSION = 0x208;
    private static final byte[] ELF = {0x7f, 'E', 'L', 'F'};
    private static final byte[] HDRS = {'H', 'd', 'r', 'S'};
    private static final String HOW = "pass an uncompressed vmlinux instead (the kernel's"
            + " scripts/extract-vmlinux makes one from a bzImage)";

    /** Payload formats by their leading bytes; the kernel's Makefile.lib makes these. */
    private enum Compression {
        LZ4_LEGACY("LZ4 (legacy frame)", 0x02, 0x21, 0x4c, 0x18),
        GZIP("gzip", 0x1f, 0x8b),
        NONE("uncompressed", 0x7f, 'E', 'L', 'F'),
        XZ("xz", 0xfd, '7', 'z', 'X', 'Z', 0),
        ZSTD("zstd", 0x28, 0xb5, 0x2f, 0xfd),
        BZIP2("bzip2", 'B', 'Z', 'h'),
        LZO("lzo", 0x89, 'L', 'Z', 'O', 0),
        LZ4_FRAME("LZ4 (frame format)", 0x04, 0x22, 0x4d, 0x18),
        LZMA("lzma", 0x5d, 0, 0);

        final String name;
        final byte[] magic;

        Compression(String name, int... magic) {
            this.name = name;
            this.magic = new byte[magic.length];
            for (int i = 0; i < magic.length; i++) {
                this.magic[i] = (byte) magic[i];
            }
        }
    }

    private KernelImage() {
    }

    /** The ELF bytes of {@code kernel}: the array itself if it is an ELF, else a new array. */
    public static byte[] elf(byte[] kernel) {
        if (startsWith(kernel, 0, ELF)) {
            return kernel;
        }
        if (kernel.length < PAYLOAD_LENGTH + 4 || !startsWith(kernel, HEADER_MAGIC, HDRS)) {
            throw new IllegalArgumentException("not a kernel image: neither an ELF (7f 45 4c 46 at offset 0) nor a"
                    + " bzImage (\"HdrS\" at offset 0x202) in " + kernel.length + " bytes");
        }
        int version = u16(kernel, VERSION);
        if (version < MIN_VERSION) {
            throw new IllegalArgumentException("bzImage boot protocol " + (version >> 8) + "." + (version & 0xff)
                    + " at offset 0x206 has no payload fields (2.08 or later needed); " + HOW);
        }
        int sects = kernel[SETUP_SECTS] & 0xff;
        long code = (long) ((sects == 0 ? 4 : sects) + 1) * 512;
        long offset = Integer.toUnsignedLong(Lz4.u32(kernel, PAYLOAD_OFFSET));
        long length = Integer.toUnsignedLong(Lz4.u32(kernel, PAYLOAD_LENGTH));
        long start = code + offset;
        if (start > kernel.length || length > kernel.length - start) {
            throw new IllegalArgumentException("bzImage payload at file offset 0x" + Long.toHexString(start)
                    + " (setup_sects " + sects + ", payload_offset 0x" + Long.toHexString(offset)
                    + " at 0x248), length " + length + " (at 0x24c), runs past the file's " + kernel.length + " bytes");
        }
        if (length < 8) {
            throw new IllegalArgumentException("bzImage payload at file offset 0x" + Long.toHexString(start)
                    + " is only " + length + " bytes (payload_length at 0x24c)");
        }
        return payload(kernel, (int) start, (int) length);
    }

    /** Decompresses the payload {@code kernel[start, start + length)}, whose last 4 bytes are its size. */
    private static byte[] payload(byte[] kernel, int start, int length) {
        Compression c = compression(kernel, start, length);
        int trailer = start + length - 4;
        long recorded = Integer.toUnsignedLong(Lz4.u32(kernel, trailer));
        if (recorded > MAX_VMLINUX) {
            throw new IllegalArgumentException("bzImage payload records a decompressed size of " + recorded
                    + " bytes (last 4 bytes, file offset 0x" + Integer.toHexString(trailer) + "), more than the "
                    + MAX_VMLINUX + " accepted");
        }
        byte[] elf = switch (c) {
            case LZ4_LEGACY -> Lz4.decompressLegacy(kernel, start, length - 4, (int) recorded);
            case GZIP -> gunzip(kernel, start, length, (int) recorded);
            case NONE -> Arrays.copyOfRange(kernel, start, trailer);
            default -> throw new IllegalArgumentException("bzImage payload at file offset 0x"
                    + Integer.toHexString(start) + " is " + c.name + "-compressed, which is not supported here; "
                    + HOW);
        };
        if (elf.length != recorded) {
            throw new IllegalArgumentException("bzImage payload (" + c.name + ") at file offset 0x"
                    + Integer.toHexString(start) + " decompressed to " + elf.length + " bytes, but its last 4 bytes"
                    + " (file offset 0x" + Integer.toHexString(trailer) + ") record " + recorded);
        }
        if (!startsWith(elf, 0, ELF)) {
            throw new IllegalArgumentException("bzImage payload (" + c.name + ") at file offset 0x"
                    + Integer.toHexString(start) + " is not an ELF vmlinux: its first bytes are not 7f 45 4c 46");
        }
        return elf;
    }

    private static Compression compression(byte[] kernel, int start, int length) {
        for (Compression c : Compression.values()) {
            if (c.magic.length <= length && startsWith(kernel, start, c.magic)) {
                return c;
            }
        }
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < Math.min(8, length); i++) {
            first.append(String.format(" %02x", kernel[start + i] & 0xff));
        }
        throw new IllegalArgumentException("bzImage payload at file offset 0x" + Integer.toHexString(start)
                + " is in an unknown format (first bytes" + first + "); " + HOW);
    }

    /** The gzip payload, refusing more than {@code max} bytes; the stream checks its CRC and ISIZE. */
    private static byte[] gunzip(byte[] kernel, int start, int length, int max) {
        String where = "gzip payload at file offset 0x" + Integer.toHexString(start);
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(kernel, start, length), 64 << 10)) {
            byte[] out = new byte[Math.min(max, 1 << 20)];
            int size = 0;
            while (true) {
                if (size == out.length) { // full: grow only if the stream really has more
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    if (size == max) {
                        throw new IllegalArgumentException(where + " decompresses to more than the " + max
                                + " bytes its last 4 bytes record");
                    }
                    out = Arrays.copyOf(out, (int) Math.min(max, 2L * out.length + 1));
                    out[size++] = (byte) b;
                }
                int n = in.read(out, size, out.length - size);
                if (n < 0) {
                    break;
                }
                size += n;
            }
            return size == out.length ? out : Arrays.copyOf(out, size);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + " is malformed: " + e.getMessage(), e);
        }
    }

    private static boolean startsWith(byte[] b, int at, byte[] prefix) {
        if (b.length - at < prefix.length) {
            return false;
        }
        return Arrays.equals(b, at, at + prefix.length, prefix, 0, prefix.length);
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
    }
}
