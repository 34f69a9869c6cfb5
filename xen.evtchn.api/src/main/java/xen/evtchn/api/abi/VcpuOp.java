package xen.evtchn.api.abi;

/** VCPUOP_* sub-operations of the vcpu_op hypercall (vcpu.h), and the timer limits Xen applies. */
public final class VcpuOp {
    public static final int IS_UP = 3;
    public static final int REGISTER_RUNSTATE_MEMORY_AREA = 5;
    public static final int SET_PERIODIC_TIMER = 6;
    public static final int STOP_PERIODIC_TIMER = 7;
    public static final int SET_SINGLESHOT_TIMER = 8;
    public static final int STOP_SINGLESHOT_TIMER = 9;
    public static final int REGISTER_VCPU_INFO = 10;

    /** VCPU_SSHOTTMR_future: fail with -ETIME if the deadline has passed; Xen ignores it for HVM guests. */
    public static final int SSHOTTMR_FUTURE = 1;

    /** The shortest periodic timer period: 1 ms. */
    public static final long MIN_PERIOD_NS = 1_000_000L;
    /** STIME_DELTA_MAX: the longest period, and how far ahead set_timer_op trusts a deadline (2^50 ns). */
    public static final long STIME_DELTA_MAX = 1L << 50;
    /** What set_timer_op arms instead of a deadline it does not trust: now + 100 ms. */
    public static final long BAD_DEADLINE_DELAY_NS = 100_000_000L;

    private VcpuOp() {
    }
}
