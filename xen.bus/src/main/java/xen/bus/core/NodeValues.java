package xen.bus.core;

import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.XenBusException;

/**
 * Reading what the other end wrote: a frontend's values are the guest's and untrusted, so they
 * are parsed strictly (decimal digits only, as few as a value needs) and shown in messages only
 * cut short and reduced to printable ASCII.
 */
final class NodeValues {
    /** What a missing or malformed state node counts as. */
    static final int NO_STATE = -1;
    private static final int SHOWN_MAX = 32;

    private NodeValues() {
    }

    /** A state node's XenbusState, or {@link #NO_STATE} if it is missing or not one. */
    static int state(String value) {
        if (value == null || value.isEmpty() || value.length() > 2) {
            return NO_STATE;
        }
        int state = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return NO_STATE;
            }
            state = state * 10 + (c - '0');
        }
        return state <= XenbusState.RECONFIGURED ? state : NO_STATE;
    }

    /**
     * Node {@code key} ({@code path}) as a whole number {@code min..max}: an optional minus sign
     * and decimal digits.
     *
     * @throws XenBusException naming the node if it is missing, malformed or out of range
     */
    static long number(String path, String value, long min, long max) throws XenBusException {
        if (value == null) {
            throw new XenBusException(path + " is missing");
        }
        int start = value.startsWith("-") ? 1 : 0;
        boolean digits = value.length() > start && value.length() - start <= 19;
        for (int i = start; digits && i < value.length(); i++) {
            char c = value.charAt(i);
            digits = c >= '0' && c <= '9';
        }
        long n;
        try {
            n = digits ? Long.parseLong(value) : 0;
        } catch (NumberFormatException e) {
            digits = false;
            n = 0;
        }
        if (!digits) {
            throw new XenBusException(path + " is not a number: \"" + shown(value) + "\"");
        }
        if (n < min || n > max) {
            throw new XenBusException(path + " = " + n + " is out of range " + min + ".." + max);
        }
        return n;
    }

    /** A value for a message: printable ASCII, others as '?', at most 32 characters and "...". */
    static String shown(String value) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < value.length() && i < SHOWN_MAX; i++) {
            char c = value.charAt(i);
            s.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return value.length() > SHOWN_MAX ? s + "..." : s.toString();
    }
}
