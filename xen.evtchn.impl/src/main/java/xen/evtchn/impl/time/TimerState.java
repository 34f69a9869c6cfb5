package xen.evtchn.impl.time;

/**
 * A vCPU's timers as values, in the guest's system time (ns since the domain started): what a
 * provider swap and save/restore carry over. {@code singleshot} is {@link #NONE} when not armed;
 * {@code period} is 0 when the periodic timer is stopped, and {@code periodicNext} is then unused.
 */
public record TimerState(long singleshot, long period, long periodicNext) {
    public static final long NONE = -1;
    public static final TimerState STOPPED = new TimerState(NONE, 0, 0);
}
