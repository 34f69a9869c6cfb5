package xen.evtchn.impl.save;

import java.util.Objects;

/**
 * A bundle's part of a domain's save (api {@code DomainStatePart}): its name, whether a restore
 * needs it, and its bytes, which only that part reads (the stream only carries them).
 */
public record PartImage(String name, boolean mandatory, byte[] state) {
    public PartImage {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        if (!validName(name)) {
            throw new IllegalArgumentException("a state part's name is 1 to " + PartRecord.MAX_NAME
                    + " characters of letters, digits and . _ -: got \"" + name + "\"");
        }
    }

    /** Whether {@code name} may name a part: 1..128 characters of letters, digits and {@code . _ -}. */
    public static boolean validName(String name) {
        if (name == null || name.isEmpty() || name.length() > PartRecord.MAX_NAME) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
                return false;
            }
        }
        return true;
    }
}
