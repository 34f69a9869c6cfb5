package xen.evtchn.api.abi;

/** SCHEDOP_* sub-operations of the sched_op hypercall, and SHUTDOWN_* reasons (sched.h). */
public final class SchedOp {
    public static final int YIELD = 0;
    public static final int BLOCK = 1;
    public static final int SHUTDOWN = 2;
    public static final int POLL = 3;

    /** The most ports one SCHEDOP_poll may name. */
    public static final int MAX_POLL_PORTS = 128;

    public static final int SHUTDOWN_POWEROFF = 0;
    public static final int SHUTDOWN_REBOOT = 1;
    public static final int SHUTDOWN_SUSPEND = 2;
    public static final int SHUTDOWN_CRASH = 3;
    public static final int SHUTDOWN_WATCHDOG = 4;
    public static final int SHUTDOWN_SOFT_RESET = 5;

    private SchedOp() {
    }

    /** The name of a shutdown reason, for host messages. */
    public static String shutdownReason(int reason) {
        return switch (reason) {
            case SHUTDOWN_POWEROFF -> "poweroff";
            case SHUTDOWN_REBOOT -> "reboot";
            case SHUTDOWN_SUSPEND -> "suspend";
            case SHUTDOWN_CRASH -> "crash";
            case SHUTDOWN_WATCHDOG -> "watchdog";
            case SHUTDOWN_SOFT_RESET -> "soft_reset";
            default -> "reason " + reason;
        };
    }
}
