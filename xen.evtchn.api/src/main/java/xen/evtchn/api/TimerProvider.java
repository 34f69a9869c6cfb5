package xen.evtchn.api;

/**
 * A source of one-shot timers on a monotonic nanosecond clock. Guests' singleshot and periodic
 * timers are built on it.
 */
public interface TimerProvider {
    /** The provider's monotonic clock in nanoseconds; deadlines are on this clock. */
    long now();

    /** Runs {@code action} once, at or soon after {@code deadline}; at once if it has passed. */
    Timer schedule(long deadline, Runnable action);

    /** An armed timer. */
    interface Timer {
        long deadline();

        /** Stops the timer; true if it had not fired yet (it then never fires). */
        boolean cancel();
    }
}
