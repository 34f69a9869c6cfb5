package xen.store.save;

import xen.evtchn.api.host.SaveStreamException;

/** Reads the store part's fields; a short or bad one is refused naming the byte and the field. */
final class StateReader {
    private final byte[] buf;
    private int pos;

    StateReader(byte[] buf) {
        this.buf = buf;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos == buf.length;
    }

    int u8(String what) {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

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

    /** A length of at most {@code max}, then that many bytes. */
    byte[] blob(String what, int max) {
        int n = varint32(what + "'s length", max);
        need(n, what);
        byte[] b = new byte[n];
        System.arraycopy(buf, pos, b, 0, n);
        pos += n;
        return b;
    }

    SaveStreamException bad(int at, String what) {
        return new SaveStreamException("save stream, xen.store part, byte " + at + ": " + what);
    }

    private void need(int n, String what) {
        if (buf.length - pos < n) {
            throw new SaveStreamException("save stream, xen.store part, byte " + pos + ": truncated in " + what);
        }
    }
}
