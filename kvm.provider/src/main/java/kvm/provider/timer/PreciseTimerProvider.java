package kvm.provider.timer;


/**
 * The Linux timer provider: one platform thread, "timer-precise", sleeping in epoll_wait on one
 * timerfd (CLOCK_MONOTONIC, armed with TFD_TIMER_ABSTIME to the earliest deadline) and one eventfd
 * (written to wake it when an earlier timer is scheduled, or at close). However many timers are
 * armed, the kernel holds one timer for this provider, re-armed only when the earliest deadline
 * changes; a schedule() that does not move the earliest deadline makes no system call. Everything
 * goes through java.lang.foreign: run with {@code --enable-native-access=ALL-UNNAMED}.
 *
 * <p>Clock: CLOCK_MONOTONIC (clock_gettime), in nanoseconds. Deadlines are on this provider's own
 * {@link #now()}, not on {@link System#nanoTime()} (on Linux HotSpot the two agree, but nothing
 * promises it).
 */
public final class PreciseTimerProvider extends ThreadedTimerProvider {
    public static final String THREAD_NAME = "timer-precise";

    /**
     * @throws UnsupportedOperationException where {@link #isSupported()} is false
     * @throws NativeCallException if a file descriptor cannot be made, e.g. "timerfd_create failed: EMFILE"
     */
    public PreciseTimerProvider() {
        super("PreciseTimerProvider", THREAD_NAME, openSleeper());
    }

    /** True on 64-bit Linux (x86-64, aarch64, riscv64) with java.lang.foreign usable. */
    public static boolean isSupported() {
        return Linux.supported();
    }

    /** Why {@link #isSupported()} is false, or null if it is true. */
    public static String unsupportedReason() {
        return Linux.whyUnsupported();
    }

    private static Sleeper openSleeper() {
        if (!isSupported()) {
            throw new UnsupportedOperationException(
                    "PreciseTimerProvider needs 64-bit Linux and java.lang.foreign: " + unsupportedReason()
                            + "; use PortableTimerProvider here");
        }
        return EpollSleeper.open();
    }
}
