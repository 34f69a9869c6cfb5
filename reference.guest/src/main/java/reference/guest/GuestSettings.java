package reference.guest;

import java.time.Duration;
import java.util.function.Function;

/**
 * Whether and how the host boots the reference guest, from framework properties (the launcher
 * sets them from its command line):
 * <ul>
 * <li>{@value #GUEST}: "reference" boots it; absent or anything else does not (another booter's)
 * <li>{@value #VCPUS}: vCPUs, default {@value #DEFAULT_VCPUS}
 * <li>{@value #HZ}: ticks per second, default {@value #DEFAULT_HZ}
 * <li>{@value #SECONDS}: how long it ticks, whole seconds, default {@value #DEFAULT_SECONDS}
 * <li>{@value #IPIS}: "true" or "false", default true: an IPI to the next vCPU every
 * {@value #IPI_EVERY_TICKS} ticks
 * </ul>
 *
 * @param boot   whether the reference guest is to be booted
 * @param config the guest's configuration, or null if it is not booted
 */
record GuestSettings(boolean boot, GuestConfig config) {
    static final String GUEST = "xen.guest";
    static final String VCPUS = "xen.guest.vcpus";
    static final String HZ = "xen.guest.hz";
    static final String SECONDS = "xen.guest.seconds";
    static final String IPIS = "xen.guest.ipis";
    /** The value of {@value #GUEST} that boots this guest. */
    static final String REFERENCE = "reference";

    static final int DEFAULT_VCPUS = 2;
    static final int DEFAULT_HZ = 100;
    static final int DEFAULT_SECONDS = 5;
    static final int IPI_EVERY_TICKS = 10;

    /**
     * Reads the settings through {@code property} (null for an absent property).
     *
     * @throws IllegalArgumentException naming the property, for a value that is not a number or
     *                                  a boolean, or out of the guest's range (read only if the
     *                                  guest is to be booted)
     */
    static GuestSettings from(Function<String, String> property) {
        if (!REFERENCE.equals(trimmed(property.apply(GUEST)))) {
            return new GuestSettings(false, null);
        }
        int vcpus = number(property, VCPUS, DEFAULT_VCPUS);
        int hz = number(property, HZ, DEFAULT_HZ);
        int seconds = number(property, SECONDS, DEFAULT_SECONDS);
        if (seconds < 1) {
            throw new IllegalArgumentException(SECONDS + " must be at least 1: got " + seconds);
        }
        boolean ipis = bool(property, IPIS, true);
        try {
            return new GuestSettings(true, new GuestConfig(vcpus, hz, Duration.ofSeconds(seconds), ipis, IPI_EVERY_TICKS));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("framework properties " + VCPUS + "/" + HZ + "/" + SECONDS + ": "
                    + e.getMessage(), e);
        }
    }

    private static int number(Function<String, String> property, String name, int fallback) {
        String value = trimmed(property.apply(name));
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number: got \"" + value + "\"");
        }
    }

    private static boolean bool(Function<String, String> property, String name, boolean fallback) {
        String value = trimmed(property.apply(name));
        if (value == null) {
            return fallback;
        }
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false: got \"" + value + "\"");
        };
    }

    private static String trimmed(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
