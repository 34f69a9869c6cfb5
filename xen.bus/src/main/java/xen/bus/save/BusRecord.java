package xen.bus.save;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import xen.evtchn.api.host.SaveStreamException;

/**
 * The bus's record of one domain in its save stream (docs/SAVE-RESTORE.md, "The xen.bus part"):
 * every device the bus had for the domain, by type and id, and whether it was connected, its
 * backend having handed it over at the save (every request it took answered, its port parked).
 * The devices' nodes travel in the store's part, their rings in guest memory and their ports'
 * bindings in the stream's BACKENDS record; this says which of those bindings a backend resumes.
 * <p>
 * Read from an untrusted stream: every field is checked, in the order written.
 *
 * @param devices the devices, ascending by type, then id; each once
 */
public record BusRecord(List<Entry> devices) {
    /** The only format written and read. */
    static final int FORMAT = 1;
    /** Devices a record may hold: far more than a domain has (libxl's limits are in the tens). */
    static final int MAX_DEVICES = 4096;
    /** As {@link xen.evtchn.api.bus.DeviceNodes}' device types. */
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final int CONNECTED = 1;
    private static final Comparator<Entry> ORDER = Comparator.comparing(Entry::type).thenComparingInt(Entry::devid);

    /** One device: its type, its id, whether it was connected at the save. */
    public record Entry(String type, int devid, boolean connected) {
    }

    public BusRecord {
        devices = devices.stream().sorted(ORDER).toList();
    }

    /** The record's bytes. */
    public byte[] write() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(FORMAT);
        varint(out, devices.size());
        for (Entry e : devices) {
            byte[] type = e.type().getBytes(StandardCharsets.US_ASCII);
            varint(out, type.length);
            out.writeBytes(type);
            varint(out, e.devid());
            out.write(e.connected() ? CONNECTED : 0);
        }
        return out.toByteArray();
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    /**
     * Reads a record.
     *
     * @throws SaveStreamException naming the byte and the field, for another format, a type that
     *                             is not a device type, an id out of range, reserved flags, devices
     *                             out of order or twice, too many, anything cut short or left over
     */
    public static BusRecord read(byte[] bytes) {
        Reader r = new Reader(bytes);
        int format = r.u8("format");
        if (format != FORMAT) {
            throw r.refused("format " + format + ", not " + FORMAT);
        }
        long count = r.varint("device count");
        if (count > MAX_DEVICES) {
            throw r.refused("device count " + count + ", more than " + MAX_DEVICES);
        }
        List<Entry> devices = new ArrayList<>();
        Entry previous = null;
        for (int i = 0; i < count; i++) {
            int at = r.at;
            long length = r.varint("device type length");
            if (length < 1 || length > 32) {
                throw r.refused("device type length " + length + ", not 1 to 32");
            }
            String type = r.ascii((int) length, "device type");
            if (!TYPE.matcher(type).matches()) {
                throw new SaveStreamException(message(at, "device type is not lower-case letters, digits, - or _"));
            }
            long devid = r.varint("device id");
            if (devid > Integer.MAX_VALUE) {
                throw r.refused("device id " + devid + " is beyond " + Integer.MAX_VALUE);
            }
            int flags = r.u8("device flags");
            if ((flags & ~CONNECTED) != 0) {
                throw r.refused("device flags 0x" + Integer.toHexString(flags) + " have reserved bits set");
            }
            Entry e = new Entry(type, (int) devid, flags == CONNECTED);
            if (previous != null && ORDER.compare(previous, e) >= 0) {
                throw new SaveStreamException(message(at, type + " " + devid + " comes after " + previous.type() + " "
                        + previous.devid() + ": devices must be ascending, each once"));
            }
            devices.add(e);
            previous = e;
        }
        if (r.at != bytes.length) {
            r.start = r.at;
            throw r.refused((bytes.length - r.at) + " bytes after the last device");
        }
        return new BusRecord(devices);
    }

    private static String message(int at, String what) {
        return "save stream, xen.bus part, byte " + at + ": " + what;
    }

    /** A cursor over the untrusted bytes. */
    private static final class Reader {
        private final byte[] bytes;
        int at;
        /** Where the field being read starts: what a refusal names. */
        int start;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        SaveStreamException refused(String what) {
            return new SaveStreamException(message(start, what));
        }

        private void need(int n, String field) {
            if (bytes.length - at < n) {
                throw refused(field + " is cut short");
            }
        }

        int u8(String field) {
            start = at;
            need(1, field);
            return bytes[at++] & 0xFF;
        }

        long varint(String field) {
            int first = at;
            long v = 0;
            for (int shift = 0; shift < 63; shift += 7) {
                int b = u8(field);
                start = first;
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return v;
                }
            }
            throw refused(field + " is a varint of more than 63 bits");
        }

        String ascii(int n, String field) {
            start = at;
            need(n, field);
            String s = new String(bytes, at, n, StandardCharsets.ISO_8859_1);
            at += n;
            return s;
        }
    }
}
