package xen.bus.testing;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import xen.evtchn.api.abi.XenbusState;

/**
 * One device's frontend as the guest's driver plays it (Linux's blkfront/netfront around
 * xenbus_switch_state), every XenStore access through the guest's own ring with the guest's
 * permissions: its own directory {@code device/TYPE/DEVID} (read and written), its backend's
 * (read only). Made by {@link GuestDomain#frontend}.
 * <p>
 * The usual connection: {@link #awaitBackendState awaitBackendState(InitWait)}, then
 * {@link #publishRing} (a granted ring page, an unbound port for dom0, {@code ring-ref} and
 * {@code event-channel} written, state Initialised), then {@code awaitBackendState(Connected)} and
 * {@code switchState(Connected)}; closing: {@code switchState(Closing)}, await Closing,
 * {@code switchState(Closed)}.
 */
public final class GuestFrontend {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final GuestDomain guest;
    private final String type;
    private final int devid;
    private final String path;

    GuestFrontend(GuestDomain guest, String type, int devid) {
        this.guest = guest;
        this.type = type;
        this.devid = devid;
        this.path = "device/" + type + "/" + devid;
    }

    /** A ring as {@link #publishRing} granted and announced it. */
    public record Ring(long gfn, MemorySegment page, int ref, int port) {
    }

    public GuestDomain guest() {
        return guest;
    }

    public String type() {
        return type;
    }

    public int devid() {
        return devid;
    }

    /** The frontend's directory, relative to the guest's home: {@code device/TYPE/DEVID}. */
    public String path() {
        return path;
    }

    /** A node of the frontend's directory, or null. */
    public String read(String key) {
        return guest.store().read(path + "/" + key);
    }

    /** Writes a node of the frontend's directory, as the guest. */
    public void write(String key, String value) {
        guest.store().write(path + "/" + key, value);
    }

    /** The backend's directory, as the frontend's {@code backend} node names it. */
    public String backendPath() {
        String backend = read("backend");
        if (backend == null) {
            throw new AssertionError(path + ": no backend node");
        }
        return backend;
    }

    /** A node of the backend's directory, read as the guest, or null. */
    public String readBackend(String key) {
        return guest.store().read(backendPath() + "/" + key);
    }

    /** The frontend's own state. */
    public int state() {
        return parse(read("state"));
    }

    /** xenbus_switch_state: writes the frontend's state. */
    public void switchState(int state) {
        write("state", Integer.toString(state));
    }

    /** The backend's state as the guest reads it; -1 if missing or not a number. */
    public int backendState() {
        return parse(readBackend("state"));
    }

    /** Waits up to 20 s for the backend's state to be {@code state}. */
    public void awaitBackendState(int state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        int now;
        while ((now = backendState()) != state) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(path + ": backend state " + XenbusState.name(now) + ", not "
                        + XenbusState.name(state) + " (error: " + readBackend("error") + ")");
            }
            GuestDomain.sleep();
        }
    }

    /**
     * Grants a zeroed ring page to dom0, offers dom0 an unbound port, writes {@code ring-ref} and
     * {@code event-channel} (and {@code extra}) in the frontend's directory and switches to
     * Initialised, as blkfront's talk_to_blkback does.
     */
    public Ring publishRing(Map<String, String> extra) {
        long gfn = guest.allocPage();
        int ref = guest.grant(gfn, false);
        int port = guest.allocUnbound();
        Map<String, String> nodes = new LinkedHashMap<>();
        nodes.put("ring-ref", Integer.toString(ref));
        nodes.put("event-channel", Integer.toString(port));
        nodes.putAll(extra);
        nodes.forEach(this::write);
        switchState(XenbusState.INITIALISED);
        return new Ring(gfn, guest.page(gfn), ref, port);
    }

    /** {@link #publishRing(Map)} with no extra nodes. */
    public Ring publishRing() {
        return publishRing(Map.of());
    }

    /**
     * The whole connection: waits for InitWait, publishes a ring, waits for Connected, switches
     * to Connected.
     */
    public Ring connect(Map<String, String> extra) {
        awaitBackendState(XenbusState.INIT_WAIT);
        Ring ring = publishRing(extra);
        awaitBackendState(XenbusState.CONNECTED);
        switchState(XenbusState.CONNECTED);
        return ring;
    }

    /** Closes as a frontend does: Closing, waits for the backend's Closing, Closed, waits for Closed. */
    public void close() {
        switchState(XenbusState.CLOSING);
        awaitBackendState(XenbusState.CLOSING);
        switchState(XenbusState.CLOSED);
        awaitBackendState(XenbusState.CLOSED);
    }

    private static int parse(String value) {
        if (value == null) {
            return -1;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
