package xen.evtchn.impl.save;

import java.util.zip.CRC32C;

/** For tests and fuzzing: a changed stream with its length and checksum made right again, so the reader's own checks see it. */
public final class StreamSeal {
    /** Where the body starts. */
    public static final int HEADER = SaveStream.HEADER;

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
}
