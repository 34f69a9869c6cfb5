package xen.evtchn.api.abi;

/**
 * XenbusState, the values of a xen-bus device's {@code state} node on either end
 * (public/io/xenbus.h). The two ends step through them in turn: the backend to InitWait once it
 * has published its features, the frontend to Initialised once its rings are granted, both to
 * Connected, then Closing and Closed.
 */
public final class XenbusState {
    public static final int UNKNOWN = 0;
    public static final int INITIALISING = 1;
    /** The backend waits for the frontend's rings (its features are published). */
    public static final int INIT_WAIT = 2;
    /** The frontend's rings and ports are in XenStore. */
    public static final int INITIALISED = 3;
    public static final int CONNECTED = 4;
    /** Tearing down: the other end should close too. */
    public static final int CLOSING = 5;
    public static final int CLOSED = 6;
    public static final int RECONFIGURING = 7;
    public static final int RECONFIGURED = 8;

    private XenbusState() {
    }

    /** The state's name as Linux's xenbus_strstate gives it, or "Unknown N". */
    public static String name(int state) {
        return switch (state) {
            case UNKNOWN -> "Unknown";
            case INITIALISING -> "Initialising";
            case INIT_WAIT -> "InitWait";
            case INITIALISED -> "Initialised";
            case CONNECTED -> "Connected";
            case CLOSING -> "Closing";
            case CLOSED -> "Closed";
            case RECONFIGURING -> "Reconfiguring";
            case RECONFIGURED -> "Reconfigured";
            default -> "Unknown " + state;
        };
    }
}
