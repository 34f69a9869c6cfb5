package xen.evtchn.api.abi;

/** x86 hypercall numbers (xen.h). */
public final class Hypercall {
    public static final int MEMORY_OP = 12;
    public static final int SET_TIMER_OP = 15;
    /** The pre-3.2 event_channel_op whose only argument points at {cmd u32, pad, union}. */
    public static final int EVENT_CHANNEL_OP_COMPAT = 16;
    public static final int XEN_VERSION = 17;
    public static final int CONSOLE_IO = 18;
    public static final int GRANT_TABLE_OP = 20;
    public static final int VCPU_OP = 24;
    public static final int SCHED_OP = 29;
    public static final int EVENT_CHANNEL_OP = 32;
    public static final int PHYSDEV_OP = 33;
    public static final int HVM_OP = 34;

    /** Hypercalls take at most five arguments. */
    public static final int MAX_ARGS = 5;

    private Hypercall() {
    }
}
