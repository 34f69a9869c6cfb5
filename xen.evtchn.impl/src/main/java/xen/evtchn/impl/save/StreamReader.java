package xen.evtchn.impl.save;

import xen.evtchn.api.host.SaveStreamException;

/**
 * Reads a save stream's fields between two offsets; every read names the field, so a short or
 * bad stream is refused with where and what.
 */
final class StreamReader {
    private final byte[] buf;
    private final int end;
    private int pos;
    /** The record these fields are in (a version-3 stream), named when they run past its end; null: none. */
    private final String record;
    /** What the fields read now belong to ("port ", 17), so that a message names it; -1: nothing. */
    private String subject = "";
    private int subjectNumber = -1;

    StreamReader(byte[] buf, int start, int end) {
        this(buf, start, end, null);
    }

    private StreamReader(byte[] buf, int start, int end, String record) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.record = record;
    }

    /** A reader of the next {@code length} bytes, the body of {@code record}; this one moves past them. */
    StreamReader body(int length, String record) {
        need(length, record);
        StreamReader body = new StreamReader(buf, pos, pos + length, record);
        pos += length;
        return body;
    }

    /** Moves past {@code length} bytes. */
    void skip(int length, String what) {
        need(length, what);
        pos += length;
    }

    /** The fields read from now on belong to {@code prefix + number} (e.g. "port 17"): their messages say so. */
    void about(String prefix, int number) {
        subject = prefix;
        subjectNumber = number;
    }

    /** The fields read from now on belong to {@code name} (e.g. backend "vbd"). */
    void about(String name) {
        subject = name;
        subjectNumber = Integer.MAX_VALUE;
    }

    /** The fields read from now on belong to nothing in particular. */
    void aboutNothing() {
        subjectNumber = -1;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos == end;
    }

    int remaining() {
        return end - pos;
    }

    int u8(String what) {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

    int u16(String what) {
        need(2, what);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    long u32(String what) {
        need(4, what);
        long v = 0;
        for (int i = 0; i < 4; i++) {
            v |= (buf[pos++] & 0xFFL) << (8 * i);
        }
        return v;
    }

    /** An unsigned varint of at most {@code max}. */
    long varint(String what, long max) {
        int at = pos;
        long v = 0;
        for (int shift = 0;; shift += 7) {
            need(1, what);
            int b = buf[pos++] & 0xFF;
            if (shift == 63 && b > 1) {
                throw bad(at, what + ": more than 64 bits");
            }
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
        }
        if (Long.compareUnsigned(v, max) > 0) {
            throw bad(at, what + " is " + Long.toUnsignedString(v) + ", more than " + max);
        }
        return v;
    }

    int varint32(String what, int max) {
        return (int) varint(what, max);
    }

    /** A varint of at least {@code min} and at most {@code max}. */
    int varint32(String what, int min, int max) {
        int at = pos;
        int v = varint32(what, max);
        if (v < min) {
            throw bad(at, what + " is " + v + ", less than " + min);
        }
        return v;
    }

    long u64(String what) {
        need(8, what);
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v |= (buf[pos++] & 0xFFL) << (8 * i);
        }
        return v;
    }

    byte[] bytes(int n, String what) {
        need(n, what);
        byte[] b = new byte[n];
        System.arraycopy(buf, pos, b, 0, n);
        pos += n;
        return b;
    }

    /** A refusal naming the byte offset {@code at} in the stream. */
    SaveStreamException bad(int at, String what) {
        return new SaveStreamException("save stream, byte " + at + ": " + named(what));
    }

    private void need(int n, String what) {
        if (end - pos < n) {
            throw new SaveStreamException("save stream, byte " + pos + ": " + (record == null ? "truncated in " + named(what)
                    : record + " ends within " + named(what) + " (its length is too short)"));
        }
    }

    /** Built only for a refusal: a stream is read field by field, thousands of them. */
    private String named(String what) {
        return subjectNumber < 0 ? what
                : (subjectNumber == Integer.MAX_VALUE ? subject : subject + subjectNumber) + "'s " + what;
    }
}
