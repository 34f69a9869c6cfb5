package xen.evtchn.api.host;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a {@link DomainStatePart}'s record in the save stream's own encoding: bytes, unsigned
 * LEB128 varints, and length-prefixed byte strings; {@link PartReader} reads it back.
 *
 * @since 1.7
 */
public final class PartWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** One byte, the low 8 bits of {@code v}. */
    public PartWriter u8(int v) {
        out.write(v);
        return this;
    }

    /** {@code v}, unsigned, 7 bits a byte, low bits first. */
    public PartWriter varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    /** The length as a varint, then the bytes. */
    public PartWriter blob(byte[] bytes) {
        varint(bytes.length);
        out.writeBytes(bytes);
        return this;
    }

    /** A string as a {@link #blob} of its US-ASCII bytes. */
    public PartWriter ascii(String s) {
        return blob(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** What was written. */
    public byte[] toArray() {
        return out.toByteArray();
    }
}
