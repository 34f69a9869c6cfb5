package xen.evtchn.impl.save;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import xen.evtchn.api.host.DomainStatePart;

/**
 * One bundle's part of the domain (record type PART): v name length, the name (ASCII letters,
 * digits, {@code . _ -}), then the part's bytes to the record's end. The record's optional flag
 * is the part's: a host without a part of that name skips an optional one and refuses a
 * mandatory one, by the name. Parts come after every other record but END, names ascending.
 */
final class PartRecord {
    static final int MAX_NAME = DomainStatePart.MAX_NAME;

    private PartRecord() {
    }

    static void write(StreamWriter w, PartImage part) {
        byte[] name = part.name().getBytes(StandardCharsets.US_ASCII);
        w.varint(name.length);
        w.bytes(name);
        w.bytes(part.state());
    }

    static void read(StreamReader r, ImageParts parts, boolean optional) {
        int at = r.position();
        int length = r.varint32("state part name length", 1, MAX_NAME);
        String name = new String(r.bytes(length, "state part name"), StandardCharsets.ISO_8859_1);
        if (!PartImage.validName(name)) {
            throw r.bad(at, "a state part's name is letters, digits and . _ - only");
        }
        if (parts.parts == null) {
            parts.parts = new ArrayList<>();
        }
        if (!parts.parts.isEmpty() && name.compareTo(parts.parts.getLast().name()) <= 0) {
            throw r.bad(at, "state part \"" + name + "\" is out of order or repeated");
        }
        parts.parts.add(new PartImage(name, !optional, r.bytes(r.remaining(), "state part \"" + name + "\"")));
    }
}
