package xen.evtchn.api.host;

import java.nio.charset.StandardCharsets;

/**
 * Reads a {@link DomainStatePart}'s record written by {@link PartWriter}. The bytes come from a
 * save stream and are untrusted: every field is bounded, and a short or bad one is refused with a
 * {@link SaveStreamException} naming the part, the byte where the field starts and the field,
 * e.g. "save stream, xen.bus part, byte 3: device count is 9000, more than 1024".
 *
 * @since 1.7
 */
public final class PartReader {
    private final byte[] bytes;
    private final String part;
    private int pos;

    /** @param part the part's name, for messages */
    public PartReader(byte[] bytes, String part) {
        this.bytes = bytes;
        this.part = part;
    }

    /** Where the next field starts. */
    public int position() {
        return pos;
    }

    /** Whether every byte has been read. */
    public boolean atEnd() {
        return pos == bytes.length;
    }

    /** One unsigned byte. */
    public int u8(String field) {
        need(1, field);
        return bytes[pos++] & 0xFF;
    }

    /** An unsigned varint of at most {@code max} (compared unsigned). */
    public long varint(String field, long max) {
        int at = pos;
        long v = 0;
        for (int shift = 0;; shift += 7) {
            need(1, field);
            int b = bytes[pos++] & 0xFF;
            if (shift == 63 && b > 1) {
                throw refused(at, field + ": more than 64 bits");
            }
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (Long.compareUnsigned(v, max) > 0) {
            throw refused(at, field + " is " + Long.toUnsignedString(v) + ", more than " + max);
        }
        return v;
    }

    /** A varint of at most {@code max}, as an int. */
    public int varint32(String field, int max) {
        return (int) varint(field, max);
    }

    /** A length of at most {@code max}, then that many bytes. */
    public byte[] blob(String field, int max) {
        int n = varint32(field + "'s length", max);
        need(n, field);
        byte[] b = new byte[n];
        System.arraycopy(bytes, pos, b, 0, n);
        pos += n;
        return b;
    }

    /** A {@link #blob} of at most {@code max} bytes as text (each byte a character, so nothing is lost for the caller to check). */
    public String ascii(String field, int max) {
        return new String(blob(field, max), StandardCharsets.ISO_8859_1);
    }

    /** Refuses the field at byte {@code at}. */
    public SaveStreamException refused(int at, String why) {
        return new SaveStreamException("save stream, " + part + " part, byte " + at + ": " + why);
    }

    /** Refuses the record unless every byte has been read. */
    public void end() {
        if (!atEnd()) {
            throw refused(pos, (bytes.length - pos) + " bytes after the record's end");
        }
    }

    private void need(int n, String field) {
        if (bytes.length - pos < n) {
            throw refused(pos, "truncated in " + field);
        }
    }
}
