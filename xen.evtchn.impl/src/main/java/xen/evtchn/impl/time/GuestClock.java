package xen.evtchn.impl.time;

import java.util.function.LongSupplier;
import xen.evtchn.api.TimerProvider;

/**
 * A domain's Xen system time: nanoseconds since the domain started, on CLOCK_MONOTONIC
 * (System.nanoTime) unless another source is given. Deadlines go to a timer provider translated
 * onto the provider's own clock, so a provider with another epoch (or a restore on another host)
 * changes nothing.
 */
public final class GuestClock {
    private final LongSupplier source;
    private final long boot;

    /** A clock starting now on System.nanoTime. */
    public GuestClock() {
        this(System::nanoTime, System.nanoTime());
    }

    /** A clock on {@code source} whose system time 0 was at {@code boot} (a {@code source} value). */
    public GuestClock(LongSupplier source, long boot) {
        this.source = source;
        this.boot = boot;
    }

    /** The guest's system time now. */
    public long now() {
        return source.getAsLong() - boot;
    }


    /** {@code systemTime} on {@code provider}'s clock; a time too far ahead to express stays far ahead. */
    public long toProvider(long systemTime, TimerProvider provider) {
        long ahead = systemTime - now();
        long base = provider.now();
        return ahead > 0 && base > Long.MAX_VALUE - ahead ? Long.MAX_VALUE : base + ahead;
    }
}
