package xen.evtchn.api.host;

/**
 * One vCPU's Xen timers, in the domain's system time (nanoseconds since it booted).
 *
 * @param vcpu         the vCPU
 * @param now          the domain's system time when this was read
 * @param singleshot   the armed singleshot deadline, or {@link #NONE}
 * @param period       the periodic timer's period, 0 if it is stopped
 * @param periodicNext the periodic timer's next deadline (meaningless when stopped)
 * @param fired        timer events delivered to the vCPU so far
 */
public record VcpuTimerInfo(int vcpu, long now, long singleshot, long period, long periodicNext, long fired) {
    /** {@link #singleshot()} of a vCPU whose singleshot timer is not armed. */
    public static final long NONE = -1;
}
