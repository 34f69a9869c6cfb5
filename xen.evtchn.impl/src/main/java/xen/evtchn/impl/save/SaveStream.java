package xen.evtchn.impl.save;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.evtchn.EventChannelImage;

/**
 * The save stream: a {@link DomainImage} as bytes, and back. docs/SAVE-RESTORE.md describes every
 * field. In short: a 16-byte header (magic, version, body length), the body, and a CRC32C of
 * everything before it. A host writes format version {@value #VERSION_RECORDS}, whose body is
 * typed records ({@link RecordBody}), and reads versions {@value #VERSION_TWO_LEVEL} (2-level)
 * and {@value #VERSION_FIFO} (FIFO) too, whose bodies are the same sections in a fixed order
 * ({@link LegacyBody}). Reading checks everything a restore relies on before it returns, so a
 * stream that reads is one a host can apply without finding a fault halfway.
 */
public final class SaveStream {
    /** "XENEVTCH": what the stream starts with. */
    static final byte[] MAGIC = "XENEVTCH".getBytes(StandardCharsets.US_ASCII);
    /** Written before version 3 for a 2-level domain: fixed sections. */
    public static final int VERSION_TWO_LEVEL = 1;
    /** Written before version 3 for a FIFO domain: version 1's sections and a FIFO section. */
    public static final int VERSION_FIFO = 2;
    /** Written now, for every domain: typed records. */
    public static final int VERSION_RECORDS = 3;
    static final int HEADER = 16;
    static final int TRAILER = 4;
    /** The longest stream read: far above any domain's (a full 4096-port one is about 20 KiB). */
    public static final int MAX_BYTES = 1 << 24;

    private SaveStream() {
    }

    /** {@code image} as a stream of format version {@value #VERSION_RECORDS}. */
    public static byte[] write(DomainImage image) {
        EventChannelImage ev = image.events().domain();
        StreamWriter w = new StreamWriter(HEADER + 128 + ev.ports().size() * 6
                + (ev.sharedInfoPage() == null ? 0 : ev.sharedInfoPage().length) + image.vcpus() * 16);
        w.bytes(MAGIC);
        w.u16(VERSION_RECORDS);
        w.u16(0);
        int lengthAt = w.position();
        w.u32(0);
        RecordBody.write(w, image);
        w.u32At(lengthAt, w.position() - HEADER);
        CRC32C crc = new CRC32C();
        crc.update(w.buffer(), 0, w.position());
        w.u32((int) crc.getValue());
        return w.toArray();
    }

    // ---- reading -------------------------------------------------------------------------------

    /** The image in {@code stream}, every field checked; throws SaveStreamException saying what is wrong. */
    public static DomainImage read(byte[] stream) {
        if (stream.length > MAX_BYTES) {
            throw new SaveStreamException("save stream: " + stream.length + " bytes, more than any domain's ("
                    + MAX_BYTES + " at most)");
        }
        if (stream.length < MAGIC.length || !Arrays.equals(stream, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new SaveStreamException("not a save stream: it does not start with \"XENEVTCH\"");
        }
        if (stream.length < HEADER + TRAILER) {
            throw new SaveStreamException("save stream: truncated: " + stream.length + " bytes, less than its header and checksum");
        }
        int version = (stream[8] & 0xFF) | (stream[9] & 0xFF) << 8;
        if (version < VERSION_TWO_LEVEL || version > VERSION_RECORDS) {
            throw new SaveStreamException("save stream: format version " + version + "; this host reads versions "
                    + VERSION_TWO_LEVEL + " to " + VERSION_RECORDS);
        }
        if (stream[10] != 0 || stream[11] != 0) {
            throw new SaveStreamException("save stream, byte 10: reserved header bytes are not 0");
        }
        long body = Integer.toUnsignedLong(littleEndian(stream, 12));
        long actual = stream.length - HEADER - TRAILER;
        if (body != actual) {
            throw new SaveStreamException("save stream: " + (body > actual ? "truncated" : "bytes after its end") + ": the header says "
                    + body + " bytes of body, the stream has " + actual);
        }
        CRC32C crc = new CRC32C();
        crc.update(stream, 0, stream.length - TRAILER);
        if ((int) crc.getValue() != littleEndian(stream, stream.length - TRAILER)) {
            throw new SaveStreamException("save stream: corrupted: its CRC32C does not match");
        }
        StreamReader r = new StreamReader(stream, HEADER, stream.length - TRAILER);
        return version == VERSION_RECORDS ? RecordBody.read(r) : LegacyBody.read(r, version == VERSION_FIFO);
    }

    private static int littleEndian(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }
}

