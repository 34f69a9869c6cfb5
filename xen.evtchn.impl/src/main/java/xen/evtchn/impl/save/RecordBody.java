package xen.evtchn.impl.save;

/**
 * A version-3 body: typed records, after Xen's libxc migration stream. Each record is a u16 type,
 * u16 flags (bit 0: optional), u32 body length and the body; the last is END. A reader skips a
 * record of a type it does not know if it is optional and refuses the stream if it is not; it
 * reads the records it knows in {@link RecordType}'s order, each body exactly to its length.
 */
final class RecordBody {
    static final int RECORD_HEADER = 8;
    /** A record a reader that does not know its type may skip (the restore does without it). */
    static final int OPTIONAL = 1;

    private RecordBody() {
    }

    static void write(StreamWriter w, DomainImage image) {
        for (RecordType t : RecordType.values()) {
            if (t != RecordType.END && t != RecordType.PART && t.in(image)) {
                int lengthAt = begin(w, t, 0);
                t.writer.write(w, image);
                w.u32At(lengthAt, w.position() - lengthAt - 4);
            }
        }
        for (PartImage part : image.parts().stream().sorted(java.util.Comparator.comparing(PartImage::name)).toList()) {
            int lengthAt = begin(w, RecordType.PART, part.mandatory() ? 0 : OPTIONAL);
            PartRecord.write(w, part);
            w.u32At(lengthAt, w.position() - lengthAt - 4);
        }
        begin(w, RecordType.END, 0);
    }

    /** A record's header, its length 0 for now; returns where the length is. */
    private static int begin(StreamWriter w, RecordType t, int flags) {
        w.u16(t.number);
        w.u16(flags);
        int lengthAt = w.position();
        w.u32(0);
        return lengthAt;
    }

    static DomainImage read(StreamReader r) {
        ImageParts parts = new ImageParts();
        int next = 0; // the ordinal of the record type to come at the earliest
        for (;;) {
            int at = r.position();
            if (r.atEnd()) {
                throw r.bad(at, "truncated: the last record is not END");
            }
            int number = r.u16("record type");
            int flags = r.u16("record flags");
            if ((flags & ~OPTIONAL) != 0) {
                throw r.bad(at + 2, "record type " + number + " has flags 0x" + Integer.toHexString(flags)
                        + ": bits other than 0 (optional) are reserved");
            }
            long length = r.u32("record length");
            if (length > r.remaining()) {
                throw r.bad(at + 4, "record type " + number + "'s length (" + length + " bytes) runs past the stream's end ("
                        + r.remaining() + " bytes left)");
            }
            RecordType t = RecordType.of(number);
            if (t == null) {
                if ((flags & OPTIONAL) == 0) {
                    throw r.bad(at, "record type " + number + " is not one this host knows, and it is not optional:"
                            + " the domain cannot be restored without it");
                }
                r.skip((int) length, "optional record type " + number);
                continue;
            }
            RecordType want = expected(next, t, parts);
            if (t != want) {
                boolean twoLevel = next > RecordType.PORTS.ordinal() && !parts.fifo;
                throw r.bad(at, t == RecordType.FIFO && twoLevel ? "a FIFO record for a domain on the 2-level ABI"
                        : t == RecordType.END ? "the stream ends without record " + want
                        : "record " + t + " where " + want + " must come (the records come in a fixed order, each once)");
            }
            if (t == RecordType.END) {
                if (length != 0) {
                    throw r.bad(at + 4, "the END record has a body (" + length + " bytes)");
                }
                if (!r.atEnd()) {
                    throw r.bad(r.position(), "bytes after the END record");
                }
                return parts.image();
            }
            StreamReader body = r.body((int) length, "record " + t);
            if (t == RecordType.PART) {
                PartRecord.read(body, parts, (flags & OPTIONAL) != 0);
                next = t.ordinal(); // one for each part
                continue;
            }
            t.reader.read(body, parts);
            if (!body.atEnd()) {
                throw body.bad(body.position(), "record " + t + " is longer than its fields: " + body.remaining()
                        + " bytes left over");
            }
            next = t.ordinal() + 1;
        }
    }

    /**
     * {@code t} if it may come next, the types before ordinal {@code next} read; else the record
     * that must come first.
     */
    private static RecordType expected(int next, RecordType t, ImageParts parts) {
        RecordType[] types = RecordType.values();
        for (int i = next; i < types.length; i++) {
            if (types[i] == t && t.allowed(parts) || types[i].required(parts)) {
                return types[i];
            }
        }
        throw new AssertionError("END is always expected");
    }
}
