package xen.store.save;

import java.io.ByteArrayOutputStream;

/** Appends the store part's fields: bytes and unsigned LEB128 varints, as the save stream's. */
final class StateWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    void u8(int v) {
        out.write(v);
    }

    void varint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** A length, then the bytes. */
    void blob(byte[] b) {
        varint(b.length);
        out.writeBytes(b);
    }

    byte[] toArray() {
        return out.toByteArray();
    }
}
