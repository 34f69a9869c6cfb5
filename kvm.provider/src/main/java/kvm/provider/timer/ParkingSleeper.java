package kvm.provider.timer;

import java.util.concurrent.locks.LockSupport;

/**
 * Sleeps with {@link LockSupport#parkNanos}, is woken with {@link LockSupport#unpark}; clock
 * {@link System#nanoTime()}. Works wherever Java does; the kernel's timer slack (50 µs by default
 * on Linux) adds to every fire.
 */
final class ParkingSleeper implements Sleeper {
    private volatile Thread thread;

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public void attach(Thread timerThread) {
        thread = timerThread;
    }

    @Override
    public void sleepUntil(long deadline) {
        if (deadline == Long.MAX_VALUE) {
            LockSupport.park(this);
            return;
        }
        long now = System.nanoTime();
        if (deadline > now) {
            long nanos = deadline - now;
            // A far deadline minus a negative now can overflow: sleep "forever" (until woken) then.
            LockSupport.parkNanos(this, nanos > 0 ? nanos : Long.MAX_VALUE);
        }
    }

    @Override
    public void wake() {
        // unpark's permit outlives the call: a wake before the park still makes it return.
        LockSupport.unpark(thread);
    }

    @Override
    public void release() {
    }
}
