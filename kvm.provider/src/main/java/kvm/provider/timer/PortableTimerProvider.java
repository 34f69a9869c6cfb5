package kvm.provider.timer;

/**
 * The timer provider that runs wherever Java does: one platform thread, "timer-portable", parked
 * ({@link java.util.concurrent.locks.LockSupport#parkNanos}) until the earliest deadline and
 * unparked when an earlier timer is scheduled.
 *
 * <p>Clock: {@link System#nanoTime()}. Deadlines are on this provider's own {@link #now()}.
 * Lateness is the JVM's park precision plus, on Linux, the kernel's timer slack (50 µs by
 * default); {@link PreciseTimerProvider} avoids the slack on Linux.
 */
public final class PortableTimerProvider extends ThreadedTimerProvider {
    public static final String THREAD_NAME = "timer-portable";

    public PortableTimerProvider() {
        super("PortableTimerProvider", THREAD_NAME, new ParkingSleeper());
    }
}
