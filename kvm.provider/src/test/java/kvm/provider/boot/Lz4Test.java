package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Lz4} on blocks and legacy frames written here sequence by sequence, good and malformed. */
class Lz4Test {
    /**
     * Writes an LZ4 block one sequence at a time and computes, byte by byte, what it decodes to:
     * the expected output never comes from the decoder under test.
     */
    static final class Block {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] expected = new byte[64];
        int size;

        /** A sequence: {@code literals}, then {@code length} bytes from {@code offset} back. */
        Block seq(byte[] literals, int offset, int length) {
            int m = length - 4;
            bytes.write(Math.min(literals.length, 15) << 4 | Math.min(m, 15));
            lengthBytes(literals.length);
            bytes.writeBytes(literals);
            bytes.write(offset & 0xff);
            bytes.write(offset >>> 8);
            lengthBytes(m);
            expect(literals, 0, literals.length);
            for (int i = 0; i < length; i++) { // byte by byte, as the format defines an overlapping copy
                expect(expected, size - offset, 1);
            }
            return this;
        }

        /** The last sequence: literals only. */
        Block last(byte[] literals) {
            bytes.write(Math.min(literals.length, 15) << 4);
            lengthBytes(literals.length);
            bytes.writeBytes(literals);
            expect(literals, 0, literals.length);
            return this;
        }

        private void expect(byte[] b, int from, int n) {
            if (size + n > expected.length) {
                expected = Arrays.copyOf(expected, Math.max(size + n, 2 * expected.length));
            }
            System.arraycopy(b, from, expected, size, n);
            size += n;
        }

        /** The 15/255 extension: nothing below 15, else (n - 15) as 255s and a final byte below 255. */
        private void lengthBytes(int n) {
            if (n < 15) {
                return;
            }
            n -= 15;
            while (n >= 255) {
                bytes.write(255);
                n -= 255;
            }
            bytes.write(n);
        }

        byte[] bytes() {
            return bytes.toByteArray();
        }

        byte[] expected() {
            return Arrays.copyOf(expected, size);
        }
    }

    /** A legacy frame: the magic, then each block with its u32 LE size. */
    static byte[] legacy(byte[]... blocks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        le32(out, Lz4.LEGACY_MAGIC);
        for (byte[] b : blocks) {
            le32(out, b.length);
            out.writeBytes(b);
        }
        return out.toByteArray();
    }

    static void le32(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] block(byte[] in) {
        byte[] out = new byte[1 << 20];
        int n = Lz4.decompressBlock(in, 0, in.length, out, 0, out.length);
        return Arrays.copyOf(out, n);
    }

    static byte[] frame(byte[] in) {
        return Lz4.decompressLegacy(in, 0, in.length, 64 << 20);
    }

    static void assertRefused(byte[] in, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> block(in));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void literalsOnly() {
        byte[] in = {0x50, 'h', 'e', 'l', 'l', 'o'};
        assertArrayEquals(ascii("hello"), block(in));
        assertArrayEquals(new byte[0], block(new byte[] {0x00}));
    }

    @Test
    void aMatchCopiesEarlierOutput() {
        Block b = new Block().seq(ascii("abcdefgh"), 8, 8).last(ascii("!"));
        assertArrayEquals(ascii("abcdefghabcdefgh!"), b.expected());
        assertArrayEquals(b.expected(), block(b.bytes()));
        // Hand-encoded, independent of the Block writer: "xyz" + 4 from 3 back + "."
        byte[] in = {0x30, 'x', 'y', 'z', 3, 0, 0x10, '.'};
        assertArrayEquals(ascii("xyzxyzx."), block(in));
    }

    @Test
    void overlappingMatchesRepeatTheirSource() {
        Block run = new Block().seq(ascii("a"), 1, 100).last(new byte[0]);
        byte[] as = new byte[101];
        Arrays.fill(as, (byte) 'a');
        assertArrayEquals(as, run.expected());
        assertArrayEquals(as, block(run.bytes()));
        // Period 3, copied in chunks that double: 3, 6, 12, ...
        Block period = new Block().seq(ascii("abc"), 3, 1000).last(ascii("z"));
        byte[] out = block(period.bytes());
        assertArrayEquals(period.expected(), out);
        assertEquals(1004, out.length);
        assertEquals('a', out[999]);
        assertEquals('z', out[1003]);
        // Offset 2 inside older output: "ab" + "cd" + 7 from 2 back -> "abcd" + "cdcdcdc".
        Block mid = new Block().seq(ascii("abcd"), 2, 7).last(new byte[0]);
        assertArrayEquals(ascii("abcdcdcdcdc"), block(mid.bytes()));
    }

    @Test
    void lengthsExtendBy255s() {
        for (int literals : new int[] {14, 15, 16, 269, 270, 271, 1000}) {
            for (int match : new int[] {4, 18, 19, 20, 273, 274, 275, 5000}) {
                byte[] lit = new byte[literals];
                new Random(literals * 31L + match).nextBytes(lit);
                Block b = new Block().seq(lit, Math.min(literals, 7), match).last(lit);
                assertArrayEquals(b.expected(), block(b.bytes()), () -> literals + " literals, match " + match);
            }
        }
        // Exactly 15 literals need a zero extension byte; 19 match bytes likewise.
        byte[] in = new byte[1 + 1 + 15 + 2 + 1 + 1];
        in[0] = (byte) 0xff;
        in[1] = 0;
        for (int i = 0; i < 15; i++) {
            in[2 + i] = (byte) ('A' + i);
        }
        in[17] = 1;
        in[18] = 0;
        in[19] = 0;
        in[20] = 0x00;
        byte[] out = block(in);
        assertEquals(15 + 19, out.length);
        assertEquals('O', out[33]);
    }

    @Test
    void randomDataRoundTripsThroughATestCompressor() {
        Random r = new Random(42);
        for (int round = 0; round < 200; round++) {
            byte[] data = new byte[r.nextInt(3000)];
            for (int i = 0; i < data.length; i++) { // few symbols: plenty of matches, some overlapping
                data[i] = (byte) (r.nextInt(4) == 0 ? r.nextInt(256) : 'a' + r.nextInt(3));
            }
            byte[] packed = GreedyCompressor.compress(data);
            assertArrayEquals(data, block(packed), "round " + round);
            assertArrayEquals(data, frame(legacy(packed)), "round " + round);
        }
    }

    @Test
    void aLegacyFrameConcatenatesIndependentBlocks() {
        Block one = new Block().seq(ascii("0123"), 4, 12).last(ascii("|"));
        Block two = new Block().seq(ascii("x"), 1, 40).last(ascii("y"));
        byte[] expected = concat(one.expected(), two.expected());
        assertArrayEquals(expected, frame(legacy(one.bytes(), two.bytes())));
        // A repeated magic starts a concatenated frame; a word too large for a block size ends it.
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        s.writeBytes(legacy(one.bytes()));
        s.writeBytes(legacy(two.bytes()));
        le32(s, expected.length + (50 << 20)); // the kernel's appended size, say
        byte[] in = s.toByteArray();
        assertArrayEquals(expected, frame(in));
        // A small kernel's size word could be a block size, but nothing follows it.
        byte[] small = concat(legacy(one.bytes()), new byte[] {100, 0, 0, 0});
        assertArrayEquals(one.expected(), frame(small));
        // The range given is all that is read: offsets are into the whole array.
        byte[] padded = concat(ascii("junk"), in, ascii("more junk"));
        assertArrayEquals(expected, Lz4.decompressLegacy(padded, 4, in.length, 1000));
    }

    @Test
    void legacyBlocksMayNotReachIntoEachOther() {
        Block one = new Block().last(ascii("abcdefgh"));
        byte[] two = {0x00, 8, 0, 0x00}; // a match 8 back: in the previous block
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> frame(legacy(one.bytes(), two)));
        assertTrue(e.getMessage().contains("match offset 8 at input offset 22"), e.getMessage());
    }

    @Test
    void outputIsBounded() {
        Block run = new Block().seq(ascii("a"), 1, 10_000).last(new byte[0]);
        byte[] in = legacy(run.bytes());
        assertEquals(10_001, Lz4.decompressLegacy(in, 0, in.length, 10_001).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lz4.decompressLegacy(in, 0, in.length, 10_000));
        assertTrue(e.getMessage().contains("maximum output of 10000 bytes"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Lz4.decompressLegacy(in, 0, in.length, 0));
        byte[] out = new byte[200];
        e = assertThrows(IllegalArgumentException.class,
                () -> Lz4.decompressBlock(run.bytes(), 0, run.bytes().length, out, 50, 150));
        assertTrue(e.getMessage().contains("output limit of 100 bytes"), e.getMessage());
        // Literals count too.
        byte[] lit = new Block().last(new byte[300]).bytes();
        e = assertThrows(IllegalArgumentException.class,
                () -> Lz4.decompressBlock(lit, 0, lit.length, new byte[400], 0, 299));
        assertTrue(e.getMessage().contains("input offset 3 "), e.getMessage());
    }

    @Test
    void aLegacyBlockDecodesToAtMost8MiB() {
        Block ok = new Block().seq(ascii("a"), 1, Lz4.LEGACY_BLOCK_SIZE - 1).last(new byte[0]);
        assertEquals(Lz4.LEGACY_BLOCK_SIZE, frame(legacy(ok.bytes())).length);
        Block big = new Block().seq(ascii("a"), 1, Lz4.LEGACY_BLOCK_SIZE).last(new byte[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> frame(legacy(big.bytes())));
        assertTrue(e.getMessage().contains("legacy block size"), e.getMessage());
    }

    @Test
    void malformedBlocksAreRefusedWithTheirOffset() {
        assertRefused(new byte[] {0x10, 'a', 0, 0, 0x00}, "match offset 0 at input offset 2");
        assertRefused(new byte[] {0x10, 'a', 2, 0, 0x00}, "match offset 2 at input offset 2", "1 bytes written");
        assertRefused(new byte[] {0x00, 1, 0, 0x00}, "match offset 1 at input offset 1");
        assertRefused(new byte[] {0x50, 'a', 'b'}, "literals at input offset 1 (5 bytes)", "end at input offset 3");
        assertRefused(new byte[] {0x10, 'a', 1}, "truncated LZ4 match offset at input offset 2");
        assertRefused(new byte[] {(byte) 0xf0}, "literal length of the sequence at input offset 0 runs past");
        assertRefused(new byte[] {(byte) 0xf0, (byte) 255, (byte) 255}, "literals at input offset 2 (270 bytes or more)");
        assertRefused(new byte[] {(byte) 0xf0, 100, 'a'}, "literals at input offset 2 (115 bytes)");
        assertRefused(new byte[] {0x1f, 'a', 1, 0}, "match length of the sequence at input offset 0");
        assertRefused(new byte[] {0x10, 'a', 1, 0}, "ends at input offset 4 after a match");
        assertRefused(new byte[0], "without any sequence");
        // A literal length made of many 255s is refused as soon as it passes what input is left.
        byte[] huge = new byte[100_000];
        huge[0] = (byte) 0xf0;
        Arrays.fill(huge, 1, huge.length - 1, (byte) 255);
        assertRefused(huge, "literals at input offset");
        // Likewise a match length runs into the output limit.
        byte[] longMatch = new byte[1000];
        longMatch[0] = 0x1f;
        longMatch[1] = 'a';
        longMatch[2] = 1;
        Arrays.fill(longMatch, 4, longMatch.length, (byte) 255);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Lz4.decompressBlock(longMatch, 0, longMatch.length, new byte[10_000], 0, 10_000));
        assertTrue(e.getMessage().contains("output limit of 10000 bytes"), e.getMessage());
    }

    @Test
    void malformedFramesAreRefused() {
        byte[] good = new Block().last(ascii("abc")).bytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> frame(ascii("\u0002\u0021\u004c")));
        assertTrue(e.getMessage().contains("no LZ4 legacy magic"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> frame(ascii("gzip, not lz4")));
        assertTrue(e.getMessage().contains("input offset 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> frame(legacy()));
        assertTrue(e.getMessage().contains("has no block"), e.getMessage());
        byte[] truncated = Arrays.copyOf(legacy(good), legacy(good).length - 1);
        e = assertThrows(IllegalArgumentException.class, () -> frame(truncated));
        assertTrue(e.getMessage().contains("truncated LZ4 legacy block at input offset 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> frame(legacy(good, new byte[0], good)));
        assertTrue(e.getMessage().contains("size 0) at input offset 12"), e.getMessage());
        // An error inside the second block names its offset in the input array.
        e = assertThrows(IllegalArgumentException.class, () -> frame(legacy(good, new byte[] {0x50, 'x'})));
        assertTrue(e.getMessage().contains("literals at input offset 17"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Lz4.decompressLegacy(good, 2, good.length, 100));
        assertThrows(IllegalArgumentException.class, () -> Lz4.decompressLegacy(good, 0, good.length, -1));
        assertThrows(IllegalArgumentException.class, () -> Lz4.decompressBlock(good, 0, 4, new byte[4], 3, 2));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * The simplest LZ4 compressor: at each position the longest earlier match of 4 or more bytes
     * (brute force over a short window), keeping the format's rule that the last 5 bytes are
     * literals. For tests only: quadratic.
     */
    static final class GreedyCompressor {
        static byte[] compress(byte[] data) {
            Block b = new Block();
            int anchor = 0;
            int i = 0;
            int limit = data.length - 5;
            while (i < limit) {
                int bestLen = 0;
                int bestOff = 0;
                for (int from = Math.max(0, i - 512); from < i; from++) {
                    int n = 0;
                    while (i + n < limit && data[from + n] == data[i + n]) {
                        n++;
                    }
                    if (n > bestLen) {
                        bestLen = n;
                        bestOff = i - from;
                    }
                }
                if (bestLen >= 4) {
                    b.seq(Arrays.copyOfRange(data, anchor, i), bestOff, bestLen);
                    i += bestLen;
                    anchor = i;
                } else {
                    i++;
                }
            }
            b.last(Arrays.copyOfRange(data, anchor, data.length));
            return b.bytes();
        }
    }
}
