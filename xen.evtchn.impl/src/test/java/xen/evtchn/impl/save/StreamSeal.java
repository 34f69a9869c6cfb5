package xen.evtchn.impl.save;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * For tests and fuzzing: a changed stream with its length and checksum made right again, so the
 * reader's own checks see it; and a version-3 stream's records, found and changed.
 */
public final class StreamSeal {
    /** Where the body starts. */
    public static final int HEADER = SaveStream.HEADER;
    /** A version-3 record's header: u16 type, u16 flags, u32 length. */
    public static final int RECORD_HEADER = RecordBody.RECORD_HEADER;
    public static final int OPTIONAL = RecordBody.OPTIONAL;

    private StreamSeal() {
    }

    /** {@code stream} (header and trailer included) with the body length and CRC32C of what it holds now. */
    public static byte[] resealed(byte[] stream) {
        int body = stream.length - SaveStream.HEADER - SaveStream.TRAILER;
        byte[] s = stream.clone();
        for (int i = 0; i < 4; i++) {
            s[12 + i] = (byte) (body >>> (8 * i));
        }
        CRC32C crc = new CRC32C();
        crc.update(s, 0, s.length - SaveStream.TRAILER);
        int c = (int) crc.getValue();
        for (int i = 0; i < 4; i++) {
            s[s.length - 4 + i] = (byte) (c >>> (8 * i));
        }
        return s;
    }

    /** Where each record of a well-formed version-3 stream starts, END's included. */
    public static List<Integer> records(byte[] stream) {
        List<Integer> at = new ArrayList<>();
        for (int pos = HEADER; pos < stream.length - SaveStream.TRAILER; pos += RECORD_HEADER + length(stream, pos)) {
            at.add(pos);
        }
        return at;
    }

    /** The type of the record at {@code at}. */
    public static int type(byte[] stream, int at) {
        return (stream[at] & 0xFF) | (stream[at + 1] & 0xFF) << 8;
    }

    /** The body length of the record at {@code at}. */
    public static int length(byte[] stream, int at) {
        return (stream[at + 4] & 0xFF) | (stream[at + 5] & 0xFF) << 8 | (stream[at + 6] & 0xFF) << 16 | (stream[at + 7] & 0xFF) << 24;
    }

    /** {@code stream} with a record inserted at byte {@code at} (a record's start), resealed. */
    public static byte[] withRecord(byte[] stream, int at, int type, int flags, byte[] body) {
        byte[] s = new byte[stream.length + RECORD_HEADER + body.length];
        System.arraycopy(stream, 0, s, 0, at);
        s[at] = (byte) type;
        s[at + 1] = (byte) (type >>> 8);
        s[at + 2] = (byte) flags;
        s[at + 3] = (byte) (flags >>> 8);
        for (int i = 0; i < 4; i++) {
            s[at + 4 + i] = (byte) (body.length >>> (8 * i));
        }
        System.arraycopy(body, 0, s, at + RECORD_HEADER, body.length);
        System.arraycopy(stream, at, s, at + RECORD_HEADER + body.length, stream.length - at);
        return resealed(s);
    }

    /** {@code stream} with the length of the record at {@code at} set to {@code length} (nothing else moves), resealed. */
    public static byte[] withLength(byte[] stream, int at, long length) {
        byte[] s = stream.clone();
        for (int i = 0; i < 4; i++) {
            s[at + 4 + i] = (byte) (length >>> (8 * i));
        }
        return resealed(s);
    }

    /** {@code stream} without {@code count} bytes from {@code at}, resealed. */
    public static byte[] without(byte[] stream, int at, int count) {
        byte[] s = new byte[stream.length - count];
        System.arraycopy(stream, 0, s, 0, at);
        System.arraycopy(stream, at + count, s, at, stream.length - at - count);
        return resealed(s);
    }
}
