package xen.evtchn.impl.time;

import xen.evtchn.api.TimerProvider;

/**
 * The provider of a host that has none: timers armed on it never fire, and keep their deadlines
 * in {@link VcpuTimers}, so that the next real provider ({@link VcpuTimers#moveTo}) fires each
 * one, at once if it is overdue.
 */
public final class ParkedTimers implements TimerProvider {
    public static final ParkedTimers INSTANCE = new ParkedTimers();

    private ParkedTimers() {
    }

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public Timer schedule(long deadline, Runnable action) {
        return new Timer() {
            @Override
            public long deadline() {
                return deadline;
            }

            @Override
            public boolean cancel() {
                return true;
            }
        };
    }

    @Override
    public String toString() {
        return "none (timers parked)";
    }
}
