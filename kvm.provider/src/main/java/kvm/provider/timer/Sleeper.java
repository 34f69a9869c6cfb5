package kvm.provider.timer;

/**
 * How a {@link TimerQueue}'s thread waits for its earliest deadline, and the clock deadlines are
 * on. One implementation per way of sleeping: {@link ParkingSleeper} (portable),
 * {@link EpollSleeper} (one timerfd and one eventfd in epoll).
 */
interface Sleeper {
    /** The clock every deadline is on, in nanoseconds. Any thread. */
    long now();

    /** Called once, before the timer thread starts. */
    default void attach(Thread timerThread) {
    }

    /**
     * Sleeps until {@link #now()} reaches {@code deadline} ({@link Long#MAX_VALUE}: no deadline) or
     * until {@link #wake()}; may return early for any reason. Timer thread only. A wake() made
     * at any time after the queue decided to sleep, even before this call, makes it return.
     */
    void sleepUntil(long deadline);

    /** Makes the current or the next {@link #sleepUntil} return soon. Any thread; never blocks. */
    void wake();

    /** Releases what the sleeper holds; called once, by the timer thread as it ends. */
    void release();
}
