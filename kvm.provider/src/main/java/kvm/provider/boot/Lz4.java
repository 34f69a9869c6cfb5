package kvm.provider.boot;

import java.util.Arrays;

/**
 * A decoder of LZ4 blocks and of the LZ4 "legacy" frame, the one the Linux build uses for
 * lz4-compressed kernels and initramfs images.
 *
 * <p>A block is a run of sequences: a token byte (high nibble: literal count, low nibble: match
 * length - 4; a nibble of 15 is extended by following bytes, each added, until one is not 255),
 * the literals, then a little-endian u16 offset back into the output and the match, which may
 * overlap its own output (offset 1 repeats a byte). The last sequence has literals only: the
 * block ends where its input ends. The legacy frame is the magic 0x184C2102 then blocks, each a
 * u32 LE compressed size and an independently compressed block of at most 8 MiB; it ends where
 * the input ends, at a word too large for a block size, or at a last word with nothing after it
 * (the kernel build appends the decompressed size there, which may be either). A word equal to
 * the magic starts a concatenated frame.
 *
 * <p>The input is untrusted: every malformation is an {@link IllegalArgumentException} naming
 * the input offset, output beyond the caller's maximum is refused, and the output buffer grows
 * with what is actually decoded, never with a size read from the input.
 */
public final class Lz4 {
    /** The legacy frame's magic, stored little-endian (bytes 02 21 4c 18). */
    public static final int LEGACY_MAGIC = 0x184C2102;
    /** Decompressed size of every legacy block but the last (the last may be smaller). */
    public static final int LEGACY_BLOCK_SIZE = 8 << 20;
    /** The largest compressed size of a legacy block: LZ4's worst-case expansion of 8 MiB. */
    static final int LEGACY_COMPRESSED_MAX = LEGACY_BLOCK_SIZE + LEGACY_BLOCK_SIZE / 255 + 16;
    /** At most this many output bytes per input byte: a 255 length byte adds 255, nothing adds more. */
    private static final int MAX_RATIO = 255;
    private static final int MIN_MATCH = 4;

    private Lz4() {
    }

    /**
     * Decodes the legacy frame in {@code in[offset, offset + length)}; refuses more than
     * {@code maxOutput} bytes of output. Error messages give offsets in {@code in}.
     */
    public static byte[] decompressLegacy(byte[] in, int offset, int length, int maxOutput) {
        checkRange(in, offset, length);
        if (maxOutput < 0) {
            throw new IllegalArgumentException("negative maximum output " + maxOutput);
        }
        int end = offset + length;
        if (length < 4 || u32(in, offset) != LEGACY_MAGIC) {
            throw new IllegalArgumentException("no LZ4 legacy magic (02 21 4c 18) at input offset " + offset);
        }
        // LZ4 compresses a kernel about 4:1: start there rather than double up from nothing.
        byte[] out = new byte[(int) Math.min(maxOutput, 4L * length)];
        int size = 0;
        int blocks = 0;
        int at = offset + 4;
        while (end - at >= 4) {
            int word = u32(in, at);
            if (word == LEGACY_MAGIC) {
                at += 4;
                continue;
            }
            if (Integer.compareUnsigned(word, LEGACY_COMPRESSED_MAX) > 0 || end - at == 4) {
                break; // not a block: what follows the frame (e.g. the kernel's size word)
            }
            if (word == 0) {
                throw new IllegalArgumentException("empty LZ4 legacy block (size 0) at input offset " + at);
            }
            if (word > end - at - 4) {
                throw new IllegalArgumentException("truncated LZ4 legacy block at input offset " + at + ": size "
                        + word + " but only " + (end - at - 4) + " input bytes follow");
            }
            int left = maxOutput - size;
            // A block cannot decode to more than 255 bytes per input byte: room for that, not for 8 MiB.
            int room = (int) Math.min(Math.min(LEGACY_BLOCK_SIZE, (long) word * MAX_RATIO), left);
            String limit = room == left ? "the maximum output of " + maxOutput + " bytes"
                    : "the legacy block size of " + LEGACY_BLOCK_SIZE + " bytes";
            out = ensure(out, size, room, maxOutput);
            size += decode(in, at + 4, word, out, size, size + room, limit);
            blocks++;
            at += 4 + word;
        }
        if (blocks == 0) {
            throw new IllegalArgumentException("LZ4 legacy frame at input offset " + offset + " has no block");
        }
        return size == out.length ? out : Arrays.copyOf(out, size);
    }

    /**
     * Decodes one LZ4 block, {@code in[offset, offset + length)}, into {@code out} from
     * {@code outOffset}, writing nothing at or beyond {@code outLimit}; returns the number of
     * bytes written. Matches may not reach before {@code outOffset}.
     */
    public static int decompressBlock(byte[] in, int offset, int length, byte[] out, int outOffset, int outLimit) {
        checkRange(in, offset, length);
        if (outOffset < 0 || outLimit < outOffset || outLimit > out.length) {
            throw new IllegalArgumentException("output range [" + outOffset + ", " + outLimit + ") outside an array of "
                    + out.length + " bytes");
        }
        return decode(in, offset, length, out, outOffset, outLimit,
                "the output limit of " + (outLimit - outOffset) + " bytes");
    }

    /**
     * The block decoder proper: writes {@code out} from {@code op} below {@code limit}, which is
     * described by {@code limitWhat} for the message when output would pass it.
     */
    private static int decode(byte[] in, int ip, int length, byte[] out, int op, int limit, String limitWhat) {
        int start = op;
        int end = ip + length;
        while (true) {
            if (ip == end) {
                throw new IllegalArgumentException("truncated LZ4 block: it ends at input offset " + end
                        + (op == start ? " without any sequence" : " after a match, without its last literals"));
            }
            int tokenAt = ip;
            int token = in[ip++] & 0xff;
            int literals = token >>> 4;
            String more = ""; // " or more" when the length's 255s were not all read
            if (literals == 15) {
                long n = literals;
                int b;
                do { // stops as soon as the count passes what is left: no overflow, no long scan
                    if (ip == end) {
                        throw new IllegalArgumentException("LZ4 literal length of the sequence at input offset "
                                + tokenAt + " runs past the block's end at input offset " + end);
                    }
                    b = in[ip++] & 0xff;
                    n += b;
                } while (b == 255 && n <= end - ip);
                literals = (int) Math.min(n, Integer.MAX_VALUE);
                more = b == 255 ? " or more" : "";
            }
            if (literals > end - ip) {
                throw new IllegalArgumentException("LZ4 literals at input offset " + ip + " (" + literals + " bytes"
                        + more + ") run past the block's end at input offset " + end);
            }
            if (literals > limit - op) {
                throw tooLong(ip, limitWhat);
            }
            System.arraycopy(in, ip, out, op, literals);
            ip += literals;
            op += literals;
            if (ip == end) {
                return op - start; // the last sequence: literals only
            }
            if (end - ip < 2) {
                throw new IllegalArgumentException("truncated LZ4 match offset at input offset " + ip);
            }
            int distance = (in[ip] & 0xff) | (in[ip + 1] & 0xff) << 8;
            if (distance == 0) {
                throw new IllegalArgumentException("LZ4 match offset 0 at input offset " + ip);
            }
            if (distance > op - start) {
                throw new IllegalArgumentException("LZ4 match offset " + distance + " at input offset " + ip
                        + " reaches before the block's output start (" + (op - start) + " bytes written)");
            }
            ip += 2;
            int match = token & 15;
            if (match == 15) {
                long n = match;
                int b;
                do {
                    if (ip == end) {
                        throw new IllegalArgumentException("LZ4 match length of the sequence at input offset "
                                + tokenAt + " runs past the block's end at input offset " + end);
                    }
                    b = in[ip++] & 0xff;
                    n += b;
                } while (b == 255 && n + MIN_MATCH <= limit - op);
                match = (int) Math.min(n, Integer.MAX_VALUE - MIN_MATCH);
            }
            match += MIN_MATCH;
            if (match > limit - op) {
                throw tooLong(tokenAt, limitWhat);
            }
            copyMatch(out, op, distance, match);
            op += match;
        }
    }

    /**
     * Copies {@code length} bytes from {@code distance} back. When the match overlaps itself the
     * output from its source is periodic, so it is copied in non-overlapping chunks that double.
     */
    private static void copyMatch(byte[] out, int op, int distance, int length) {
        int src = op - distance;
        if (distance >= length) {
            System.arraycopy(out, src, out, op, length);
            return;
        }
        if (distance == 1) {
            Arrays.fill(out, op, op + length, out[src]);
            return;
        }
        while (length > 0) {
            int n = Math.min(length, op - src);
            System.arraycopy(out, src, out, op, n);
            op += n;
            length -= n;
        }
    }

    private static IllegalArgumentException tooLong(int ip, String limitWhat) {
        return new IllegalArgumentException("LZ4 output of the sequence at input offset " + ip + " would pass "
                + limitWhat);
    }

    /** {@code out} with room for {@code more} bytes after {@code size}: doubles, never past {@code max}. */
    private static byte[] ensure(byte[] out, int size, int more, int max) {
        long needed = (long) size + more;
        if (needed <= out.length) {
            return out;
        }
        long grown = Math.min(max, Math.max(needed, 2L * out.length));
        return Arrays.copyOf(out, (int) grown);
    }

    private static void checkRange(byte[] in, int offset, int length) {
        if (offset < 0 || length < 0 || length > in.length - offset) {
            throw new IllegalArgumentException("input range [" + offset + ", +" + length + ") outside an array of "
                    + in.length + " bytes");
        }
    }

    static int u32(byte[] b, int at) {
        return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
    }
}
