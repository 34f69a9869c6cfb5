package xen.evtchn.api.host;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.bus.DiskSpec;

/**
 * Reads a domain's Config Admin configuration (a factory configuration of a guest booter, e.g.
 * {@code xen.domain.reference}), which an operator wrote and so is not trusted: every value is
 * checked, and a bad one is refused with a message naming the factory PID and the property.
 * Values may be typed (Integer, Long, Boolean) or strings, as a configuration file gives them.
 * The properties every booter shares: {@value #DOMID} (required) and {@value #XEN_VERSION}; a
 * booter whose guests have a block frontend also reads {@value #DISK} ({@link #disks()}), and one
 * whose guests have xen-bus consoles {@value #CONSOLES} ({@link #consoles()}).
 */
public final class DomainConfiguration {
    public static final String DOMID = "domid";
    public static final String VCPUS = "vcpus";
    public static final String XEN_VERSION = "xen.version";
    /** The domain's disks: {@link DiskSpec} strings, FILE[,ro|rw][,vdev=xvdX]. */
    public static final String DISK = "disk";
    /** How many xen-bus consoles (device/console/1..N) the domain has beside its own. */
    public static final String CONSOLES = "consoles";
    /** The most xen-bus consoles a domain has: Linux's hvc layer has 16 terminals (MAX_NR_HVC_CONSOLES), hvc0 is the domain's own. */
    public static final int MAX_CONSOLES = 15;
    /** @deprecated {@link DomainProperties#DOMAIN}, where a domain's service properties are named. */
    @Deprecated
    public static final String DOMAIN_PROPERTY = DomainProperties.DOMAIN;
    /** @deprecated {@link DomainProperties#GUEST}, where a domain's service properties are named. */
    @Deprecated
    public static final String GUEST_PROPERTY = DomainProperties.GUEST;

    private final String pid;
    private final Map<String, ?> properties;

    public DomainConfiguration(String pid, Map<String, ?> properties) {
        this.pid = pid;
        this.properties = properties;
    }

    /** The guest domid, 1..32751. */
    public int domid() {
        if (properties.get(DOMID) == null) {
            throw refused(DOMID + " is required (1.." + (DomId.FIRST_RESERVED - 1) + ")");
        }
        return integer(DOMID, 0, 1, DomId.FIRST_RESERVED - 1);
    }

    /** The Xen version the guest sees, "major.minor", or null for the host's default (checked by the host). */
    public String xenVersion() {
        return string(XEN_VERSION, null);
    }

    /**
     * The domain's disks, property {@value #DISK}: one {@link DiskSpec} string
     * ({@code FILE[,ro|rw][,vdev=xvdX]}), or a String[] or Collection of them, as Config Admin
     * gives multi-valued properties. Parsed ({@link DiskSpec#parseAll}, which assigns the unnamed
     * their vdevs) and each image checked ({@link DiskSpec#check}: it exists, is a regular file,
     * readable, writable unless ro, at least one sector), so that a bad disk is refused before the
     * domain is made. Empty if the property is absent, blank or an empty list.
     *
     * @throws IllegalArgumentException naming the configuration, the property and the disk
     */
    public List<DiskSpec> disks() {
        Object value = properties.get(DISK);
        List<String> specs = new ArrayList<>();
        if (value instanceof String s) {
            if (!s.isBlank()) {
                specs.add(s);
            }
        } else if (value instanceof String[] array) {
            specs.addAll(Arrays.asList(array));
        } else if (value instanceof Collection<?> collection) {
            for (Object o : collection) {
                if (!(o instanceof String s)) {
                    throw refused(DISK + " must list strings (FILE[,ro|rw][,vdev=xvdX]): got "
                            + (o == null ? "null" : "a " + o.getClass().getSimpleName()));
                }
                specs.add(s);
            }
        } else if (value != null) {
            throw refused(DISK + " must be a string or a list of strings (FILE[,ro|rw][,vdev=xvdX]): got a "
                    + value.getClass().getSimpleName());
        }
        try {
            List<DiskSpec> disks = DiskSpec.parseAll(specs);
            for (DiskSpec disk : disks) {
                disk.check();
            }
            return disks;
        } catch (IllegalArgumentException e) {
            throw refused(e.getMessage());
        }
    }

    /** The domain's xen-bus consoles, property {@value #CONSOLES}: 0..{@value #MAX_CONSOLES}, default 0. */
    public int consoles() {
        return integer(CONSOLES, 0, 0, MAX_CONSOLES);
    }

    /** A whole number in min..max, or {@code fallback} if absent. */
    public int integer(String name, int fallback, int min, int max) {
        Object value = properties.get(name);
        if (value == null) {
            return fallback;
        }
        long n;
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            n = ((Number) value).longValue();
        } else {
            String s = value.toString().strip();
            try {
                n = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw refused(name + " must be a whole number: got \"" + shortened(s) + "\"");
            }
        }
        if (n < min || n > max) {
            throw refused(name + " must be " + min + ".." + max + ": got " + n);
        }
        return (int) n;
    }

    /** true or false, or {@code fallback} if absent. */
    public boolean bool(String name, boolean fallback) {
        Object value = properties.get(name);
        if (value == null) {
            return fallback;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        return switch (value.toString().strip()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw refused(name + " must be true or false: got \"" + shortened(value.toString()) + "\"");
        };
    }

    /** A string, or {@code fallback} if absent or blank. */
    public String string(String name, String fallback) {
        Object value = properties.get(name);
        if (value == null || value.toString().isBlank()) {
            return fallback;
        }
        return value.toString().strip();
    }

    /** The string as given, unstripped, or {@code fallback} if absent. */
    public String raw(String name, String fallback) {
        Object value = properties.get(name);
        return value == null ? fallback : value.toString();
    }

    /** An IllegalArgumentException naming the configuration. */
    public IllegalArgumentException refused(String why) {
        return new IllegalArgumentException("configuration " + pid + ": " + why);
    }

    private static String shortened(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
}
