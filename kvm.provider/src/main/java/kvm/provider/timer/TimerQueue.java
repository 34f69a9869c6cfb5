package kvm.provider.timer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import xen.evtchn.api.TimerProvider;

/**
 * The timer contract, in one place for every provider: a min-heap of armed timers under one lock,
 * and the loop of the one thread that fires them, which sleeps through a {@link Sleeper}.
 *
 * <h2>States and the cancel/fire race</h2>
 * A timer is ARMED, then either FIRED or CANCELLED, never both, and the change happens under the
 * lock: the timer thread takes a due timer out of the heap and marks it FIRED (it has then
 * "fired", though its action runs just after, outside the lock); {@link Entry#cancel()} marks an
 * ARMED one CANCELLED and takes it out of the heap. Whichever comes first wins: cancel() returns
 * true exactly when the action will never run.
 *
 * <h2>Sleeping and waking</h2>
 * {@code sleepingUntil} (under the lock) is the deadline the thread will sleep until, or
 * {@link #AWAKE} while it is busy and will look at the heap again before sleeping. A schedule()
 * earlier than that deadline sets it to AWAKE and wakes the sleeper once; any other schedule()
 * (later deadlines, or any made by actions on the timer thread itself) costs no wake-up at all.
 *
 * <h2>Closing</h2>
 * After {@link #close()} nothing more fires (but a batch already taken out of the heap, whose
 * timers have fired in the sense above, still runs); timers still armed stay ARMED, out of the
 * heap, so their cancel() returns true: a consumer moving its timers to another provider learns
 * which ones did not fire. schedule() then throws IllegalStateException.
 */
final class TimerQueue {
    /** {@code sleepingUntil} while the thread is not asleep nor about to be. */
    private static final long AWAKE = Long.MIN_VALUE;
    /** At most this many due timers are taken out of the heap at once. */
    private static final int BATCH = 1024;
    private static final int MIN_CAPACITY = 16;

    private static final int ARMED = 0;
    private static final int FIRED = 1;
    private static final int CANCELLED = 2;

    private final String name;
    private final Sleeper sleeper;
    private final ReentrantLock lock = new ReentrantLock();

    // Guarded by lock.
    private Entry[] heap = new Entry[MIN_CAPACITY];
    private int size;
    private long sequence;
    private long sleepingUntil = AWAKE;
    private boolean closed;

    /** Mirrors size (0 once closed), for lock-free reads. */
    private volatile int armed;
    /** Non-null once closed: why schedule() is refused. */
    private volatile String closedReason;
    // Written by the timer thread only.
    private volatile long failedActions;
    private volatile long sleeps;

    TimerQueue(String name, Sleeper sleeper) {
        this.name = name;
        this.sleeper = sleeper;
    }

    long now() {
        return sleeper.now();
    }

    /** Arms a timer; the timer thread runs {@code action} once {@code now() >= deadline}. */
    TimerProvider.Timer schedule(long deadline, Runnable action) {
        Objects.requireNonNull(action, "action");
        Entry e = new Entry(this, deadline, action);
        boolean wake = false;
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(closedReason + ": schedule() refused (deadline " + deadline + ")");
            }
            e.sequence = sequence++;
            add(e);
            if (deadline < sleepingUntil) {
                // The thread sleeps (or is about to) for a later deadline, or for none.
                sleepingUntil = AWAKE;
                wake = true;
            }
        } finally {
            lock.unlock();
        }
        if (wake) {
            sleeper.wake();
        }
        return e;
    }

    boolean cancel(Entry e) {
        if (e.state != ARMED) {
            return false; // fast path: fired or cancelled already
        }
        lock.lock();
        try {
            if (e.state != ARMED) {
                return false;
            }
            e.state = CANCELLED;
            e.action = null;
            if (e.index >= 0) {
                removeAt(e.index);
            }
            // If it was the earliest, the thread wakes for nothing once: cheaper than a re-arm now.
            return true;
        } finally {
            lock.unlock();
        }
    }

    int armed() {
        return armed;
    }

    long failedActions() {
        return failedActions;
    }

    /** How many times the thread went to sleep (for tests: no busy loop). */
    long sleeps() {
        return sleeps;
    }

    /** The deadline the thread has decided to sleep until, or Long.MIN_VALUE while busy (for tests). */
    long sleepingUntil() {
        lock.lock();
        try {
            return sleepingUntil;
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        return closedReason != null;
    }

    /** Stops firing; the thread ends soon after. Idempotent. */
    void close() {
        close(name + " is closed");
    }

    private void close(String reason) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            closedReason = reason;
            for (int i = 0; i < size; i++) {
                heap[i].index = -1; // stays ARMED: its cancel() says it never fired
                heap[i] = null;
            }
            size = 0;
            heap = new Entry[MIN_CAPACITY];
            armed = 0;
        } finally {
            lock.unlock();
        }
        sleeper.wake();
    }

    /** The timer thread's body. */
    void run() {
        List<Entry> due = new ArrayList<>();
        try {
            while (true) {
                // An action may interrupt this thread: never let that turn the sleeps into a spin.
                Thread.interrupted();
                long next = takeDue(sleeper.now(), due);
                if (due.isEmpty()) {
                    if (isClosed()) {
                        return;
                    }
                    sleeps++;
                    sleeper.sleepUntil(next);
                    continue;
                }
                for (int i = 0; i < due.size(); i++) {
                    fire(due.get(i));
                }
                due.clear();
            }
        } catch (Throwable t) {
            // Only the sleeper can throw here (actions are caught): refuse new timers, loudly.
            close(name + " stopped: its timer thread failed: " + t);
            throw t;
        } finally {
            sleeper.release();
        }
    }

    private void fire(Entry e) {
        Runnable action = e.action;
        e.action = null;
        try {
            action.run();
        } catch (Throwable t) {
            failedActions++;
        }
    }

    /**
     * Moves the timers due at {@code now} (at most {@link #BATCH}) to {@code due}, marked FIRED.
     * If there were none, returns the deadline to sleep until ({@link Long#MAX_VALUE}: none) and
     * records it, so that an earlier schedule() wakes the thread.
     */
    private long takeDue(long now, List<Entry> due) {
        lock.lock();
        try {
            if (closed) {
                return Long.MAX_VALUE;
            }
            while (size > 0 && heap[0].deadline <= now && due.size() < BATCH) {
                Entry e = heap[0];
                removeAt(0);
                e.state = FIRED;
                due.add(e);
            }
            if (!due.isEmpty()) {
                sleepingUntil = AWAKE;
                return now;
            }
            long next = size == 0 ? Long.MAX_VALUE : heap[0].deadline;
            sleepingUntil = next;
            return next;
        } finally {
            lock.unlock();
        }
    }

    // ---- the binary min-heap, ordered by (deadline, sequence); each entry knows its index ----

    private void add(Entry e) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        siftUp(size++, e);
        armed = size;
    }

    private void removeAt(int i) {
        Entry removed = heap[i];
        int last = --size;
        Entry moved = heap[last];
        heap[last] = null;
        if (i != last) {
            siftDown(i, moved);
            if (heap[i] == moved) {
                siftUp(i, moved);
            }
        }
        removed.index = -1;
        if (heap.length > MIN_CAPACITY && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, heap.length / 2); // a burst of timers does not pin its memory
        }
        armed = size;
    }

    private void siftUp(int i, Entry e) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Entry p = heap[parent];
            if (!before(e, p)) {
                break;
            }
            place(i, p);
            i = parent;
        }
        place(i, e);
    }

    private void siftDown(int i, Entry e) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && before(heap[right], heap[child])) {
                child = right;
            }
            if (!before(heap[child], e)) {
                break;
            }
            place(i, heap[child]);
            i = child;
        }
        place(i, e);
    }

    private void place(int i, Entry e) {
        heap[i] = e;
        e.index = i;
    }

    private static boolean before(Entry a, Entry b) {
        return a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence);
    }

    /** One armed timer. */
    static final class Entry implements TimerProvider.Timer {
        private final TimerQueue queue;
        private final long deadline;
        // Guarded by the queue's lock, except as noted.
        private long sequence;
        private int index = -1;
        /** Written under the lock; read without it by cancel()'s fast path. */
        private volatile int state = ARMED;
        /** Null once fired or cancelled, so a kept Timer does not keep its action alive. */
        private Runnable action;

        Entry(TimerQueue queue, long deadline, Runnable action) {
            this.queue = queue;
            this.deadline = deadline;
            this.action = action;
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        public boolean cancel() {
            return queue.cancel(this);
        }

        @Override
        public String toString() {
            String s = switch (state) {
                case ARMED -> "armed";
                case FIRED -> "fired";
                default -> "cancelled";
            };
            return "Timer[deadline=" + deadline + ", " + s + "]";
        }
    }
}
