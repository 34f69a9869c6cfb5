package xen.evtchn.api.bus;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * A device as the toolstack adds it ({@link XenBus#add}): its domain, type and id, and the nodes
 * the toolstack writes in each end's directory beyond those the bus writes itself
 * ({@code backend}, {@code backend-id}, {@code frontend}, {@code frontend-id}, {@code online},
 * {@code state}).
 */
public record DeviceNodes(int domid, String type, int devid, Map<String, String> backend, Map<String, String> frontend) {
    /** The device type of xen-bus consoles. */
    public static final String CONSOLE = "console";
    private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64}){0,3}");

    public DeviceNodes {
        if (!TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("device type must be lower-case letters, digits, - or _: got \"" + type + "\"");
        }
        if (devid < 0) {
            throw new IllegalArgumentException("device id must not be negative: got " + devid);
        }
        backend = Map.copyOf(backend);
        frontend = Map.copyOf(frontend);
        for (String key : backend.keySet()) {
            checkKey(key);
        }
        for (String key : frontend.keySet()) {
            checkKey(key);
        }
    }

    /**
     * Xen-bus console {@code n} (1 and up; 0 is the domain's own, at HVM_PARAM_CONSOLE_PFN) of
     * domain {@code domid}, with the node libxl writes in its backend directory: {@code protocol}
     * vt100. Linux's hvc_xen frontend reads none of them: it grants a ring and writes
     * {@code ring-ref} and {@code port}.
     */
    public static DeviceNodes console(int domid, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("xen-bus consoles are numbered from 1: got " + n);
        }
        return new DeviceNodes(domid, CONSOLE, n, Map.of("protocol", "vt100"), Map.of());
    }

    private static void checkKey(String key) {
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("not a node name: \"" + key + "\"");
        }
    }
}
