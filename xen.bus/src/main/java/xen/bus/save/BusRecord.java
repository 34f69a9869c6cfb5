package xen.bus.save;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import xen.evtchn.api.host.PartReader;
import xen.evtchn.api.host.PartWriter;
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
    /** The name of the bus's part of a domain's save stream. */
    public static final String PART = "xen.bus";
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
        PartWriter w = new PartWriter().u8(FORMAT).varint(devices.size());
        for (Entry e : devices) {
            w.ascii(e.type()).varint(e.devid()).u8(e.connected() ? CONNECTED : 0);
        }
        return w.toArray();
    }

    /**
     * Reads a record.
     *
     * @throws SaveStreamException naming the byte and the field, for another format, a type that
     *                             is not a device type, an id out of range, reserved flags, devices
     *                             out of order or twice, too many, anything cut short or left over
     */
    public static BusRecord read(byte[] bytes) {
        PartReader r = new PartReader(bytes, PART);
        int format = r.u8("format");
        if (format != FORMAT) {
            throw r.refused(0, "format " + format + ", not " + FORMAT);
        }
        int count = r.varint32("device count", MAX_DEVICES);
        List<Entry> devices = new ArrayList<>();
        Entry previous = null;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            String type = r.ascii("device type", 32);
            if (!TYPE.matcher(type).matches()) {
                throw r.refused(at, "device type is not lower-case letters, digits, - or _");
            }
            int devid = r.varint32("device id", Integer.MAX_VALUE);
            int flagsAt = r.position();
            int flags = r.u8("device flags");
            if ((flags & ~CONNECTED) != 0) {
                throw r.refused(flagsAt, "device flags 0x" + Integer.toHexString(flags) + " have reserved bits set");
            }
            Entry e = new Entry(type, devid, flags == CONNECTED);
            if (previous != null && ORDER.compare(previous, e) >= 0) {
                throw r.refused(at, type + " " + devid + " comes after " + previous.type() + " " + previous.devid()
                        + ": devices must be ascending, each once");
            }
            devices.add(e);
            previous = e;
        }
        r.end();
        return new BusRecord(devices);
    }
}
