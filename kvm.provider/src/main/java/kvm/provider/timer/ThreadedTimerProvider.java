package kvm.provider.timer;

import java.time.Duration;
import xen.evtchn.api.TimerProvider;

/**
 * A {@link TimerProvider} with one dedicated platform thread that sleeps until the earliest
 * deadline and runs the actions of due timers, one after another, on itself. The contract (one
 * fire at most, cancel against fire, failures counted, close) is {@link TimerQueue}'s; subclasses
 * choose the clock and the way of sleeping.
 *
 * <p>Actions run on the timer thread, so they should be short: a slow one delays every later
 * timer. An action that throws is counted in {@link #failedActions()} and the thread goes on.
 * A deadline already passed fires as soon as the timer thread gets to it, never inline in the
 * caller of {@link #schedule}.
 */
public abstract sealed class ThreadedTimerProvider implements TimerProvider, AutoCloseable
        permits PortableTimerProvider, PreciseTimerProvider {
    /** How long close() waits for a running action before interrupting the timer thread. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final TimerQueue queue;
    private final Thread thread;

    ThreadedTimerProvider(String name, String threadName, Sleeper sleeper) {
        TimerQueue q = new TimerQueue(name, sleeper);
        Thread t = Thread.ofPlatform().name(threadName).daemon(true).unstarted(q::run);
        sleeper.attach(t);
        this.queue = q;
        this.thread = t;
        t.start();
    }

    /** This provider's clock; every deadline given to {@link #schedule} is on it. */
    @Override
    public final long now() {
        return queue.now();
    }

    /**
     * Arms a one-shot timer: {@code action} runs once on the timer thread, at or soon after
     * {@code deadline} on {@link #now()}'s clock (at once if it has passed; never, if cancelled
     * first). Timers with the same deadline fire in the order they were scheduled.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public final Timer schedule(long deadline, Runnable action) {
        return queue.schedule(deadline, action);
    }

    /** How many timers are armed: scheduled, neither fired nor cancelled (0 once closed). */
    public final int armed() {
        return queue.armed();
    }

    /** How many actions have thrown (each was caught; the timer thread went on). */
    public final long failedActions() {
        return queue.failedActions();
    }

    /** The timer thread went to sleep this many times (a test's view on busy loops). */
    final long sleeps() {
        return queue.sleeps();
    }

    /** The deadline the timer thread has decided to sleep until (Long.MIN_VALUE while busy), for tests. */
    final long sleepingUntil() {
        return queue.sleepingUntil();
    }

    /** The timer thread, for tests. */
    final Thread thread() {
        return thread;
    }

    /**
     * Stops the timer thread. Timers still armed never fire; their {@link Timer#cancel()} returns
     * true (they did not fire), so a consumer can re-arm them elsewhere. Waits for an action that
     * is running to finish (up to a few seconds, then interrupts the thread), except when called
     * from an action. Idempotent.
     */
    @Override
    public final void close() {
        queue.close();
        if (Thread.currentThread() == thread) {
            return; // an action closes its own provider: the thread ends once it returns
        }
        try {
            if (!thread.join(CLOSE_GRACE)) {
                thread.interrupt();
                thread.join(CLOSE_GRACE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[armed=" + armed() + (queue.isClosed() ? ", closed]" : "]");
    }
}
