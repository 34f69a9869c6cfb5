package xen.evtchn.impl.time;

import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.TimerProvider;

/** A timer provider whose clock the test moves: timers fire, in deadline order, when it advances past them. */
public final class ManualTimerProvider implements TimerProvider {
    private long now;
    private final List<Armed> armed = new ArrayList<>();

    private final class Armed implements Timer {
        final long deadline;
        final Runnable action;
        boolean done;

        Armed(long deadline, Runnable action) {
            this.deadline = deadline;
            this.action = action;
        }

        @Override
        public long deadline() {
            return deadline;
        }

        @Override
        public synchronized boolean cancel() {
            if (done) {
                return false;
            }
            done = true;
            return true;
        }
    }

    public ManualTimerProvider(long start) {
        this.now = start;
    }

    @Override
    public synchronized long now() {
        return now;
    }

    @Override
    public synchronized Timer schedule(long deadline, Runnable action) {
        Armed a = new Armed(deadline, action);
        armed.add(a);
        return a;
    }

    /** Armed timers not yet fired or cancelled. */
    public synchronized int armed() {
        return (int) armed.stream().filter(a -> !a.done).count();
    }

    /** Moves the clock to {@code time}, firing what falls due, earliest first (also timers armed by the actions). */
    public void advanceTo(long time) {
        advance(time, false);
    }

    /** As {@link #advanceTo}, but the clock is at {@code time} before anything fires: every fire is late. */
    public void advanceLateTo(long time) {
        advance(time, true);
    }

    private void advance(long time, boolean late) {
        if (late) {
            synchronized (this) {
                now = time;
            }
        }
        for (;;) {
            Armed next = null;
            synchronized (this) {
                for (Armed a : armed) {
                    if (!a.done && a.deadline <= time && (next == null || a.deadline < next.deadline)) {
                        next = a;
                    }
                }
                if (next == null) {
                    now = time;
                    return;
                }
                now = Math.max(now, next.deadline);
                next.done = true;
            }
            next.action.run();
        }
    }
}
