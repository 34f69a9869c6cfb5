package xen.evtchn.impl.save;

import java.util.Arrays;

/** Appends a save stream's fields: bytes, little-endian words and unsigned LEB128 varints. */
final class StreamWriter {
    private byte[] buf;
    private int pos;

    StreamWriter(int capacity) {
        buf = new byte[Math.max(64, capacity)];
    }

    int position() {
        return pos;
    }

    void u8(int v) {
        room(1);
        buf[pos++] = (byte) v;
    }

    void u16(int v) {
        room(2);
        buf[pos++] = (byte) v;
        buf[pos++] = (byte) (v >>> 8);
    }

    void u32(int v) {
        room(4);
        for (int i = 0; i < 4; i++) {
            buf[pos++] = (byte) (v >>> (8 * i));
        }
    }

    void u64(long v) {
        room(8);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (v >>> (8 * i));
        }
    }

    /** An unsigned varint: 7 bits a byte, low first, the top bit set on every byte but the last. */
    void varint(long v) {
        room(10);
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) (v & 0x7F | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    void bytes(byte[] b) {
        room(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    /** Overwrites the u32 at {@code at} (a length known only later). */
    void u32At(int at, int v) {
        for (int i = 0; i < 4; i++) {
            buf[at + i] = (byte) (v >>> (8 * i));
        }
    }

    byte[] buffer() {
        return buf;
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, pos);
    }

    private void room(int n) {
        if (buf.length - pos < n) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }
}
