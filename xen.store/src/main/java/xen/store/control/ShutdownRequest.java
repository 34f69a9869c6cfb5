package xen.store.control;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What the toolstack asks of a guest in its control/shutdown node, as libxl_domain_shutdown and
 * libxl_domain_reboot write it. Linux's drivers/xen/manage.c also knows "halt" (a poweroff) and
 * "suspend" (which only a save should ask); neither is offered here.
 */
public enum ShutdownRequest {
    POWEROFF("poweroff"),
    REBOOT("reboot");

    private final String value;

    ShutdownRequest(String value) {
        this.value = value;
    }

    /** The node's value, as the guest compares it. */
    public String value() {
        return value;
    }

    byte[] bytes() {
        return value.getBytes(StandardCharsets.US_ASCII);
    }

    /** The request named {@code name} (case-insensitive), or IllegalArgumentException listing the names. */
    public static ShutdownRequest parse(String name) {
        for (ShutdownRequest r : values()) {
            if (r.value.equalsIgnoreCase(name.strip())) {
                return r;
            }
        }
        String shown = name.length() > 20 ? name.substring(0, 20) + "..." : name;
        throw new IllegalArgumentException("the request must be one of " + names() + ": got \"" + shown + "\"");
    }

    static String names() {
        return Arrays.stream(values()).map(ShutdownRequest::value).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return value;
    }
}
