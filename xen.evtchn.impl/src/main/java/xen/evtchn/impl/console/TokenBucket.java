package xen.evtchn.impl.console;

import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A token bucket: up to {@code burst} bytes at once, refilled at {@code rate} bytes per second.
 * Never blocks: {@link #take} grants what there is and the caller drops the rest.
 */
public final class TokenBucket {
    /** 64 KiB/s of console output per domain. */
    public static final long DEFAULT_RATE = 64 * 1024;
    /** A burst of 128 KiB: a boot's worth of early console lines. */
    public static final long DEFAULT_BURST = 128 * 1024;
    /** Rates and bursts are at most 1 GiB, which keeps the arithmetic in a long. */
    public static final long MAX = 1L << 30;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long rate;
    private final long burst;
    private final LongSupplier nanoClock;
    /** Nanoseconds that refill an empty bucket completely. */
    private final long fillNanos;
    private long tokens;
    private long last;

    public TokenBucket(long ratePerSecond, long burst) {
        this(ratePerSecond, burst, System::nanoTime);
    }

    /** A bucket that reads the time (in nanoseconds, like System.nanoTime) from {@code nanoClock}; starts full. */
    public TokenBucket(long ratePerSecond, long burst, LongSupplier nanoClock) {
        if (ratePerSecond < 1 || ratePerSecond > MAX || burst < 1 || burst > MAX) {
            throw new IllegalArgumentException("rate and burst must be 1.." + MAX + ": got " + ratePerSecond + ", " + burst);
        }
        this.rate = ratePerSecond;
        this.burst = burst;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.fillNanos = (burst * NANOS_PER_SECOND + ratePerSecond - 1) / ratePerSecond;
        this.tokens = burst;
        this.last = nanoClock.getAsLong();
    }

    public static TokenBucket defaults() {
        return new TokenBucket(DEFAULT_RATE, DEFAULT_BURST);
    }

    /** Takes up to {@code wanted} tokens (wanted &ge; 0) and returns how many it got. */
    public synchronized long take(long wanted) {
        refill();
        long granted = Math.min(wanted, tokens);
        tokens -= granted;
        return granted;
    }

    public long rate() {
        return rate;
    }

    public long burst() {
        return burst;
    }

    private void refill() {
        long now = nanoClock.getAsLong();
        long elapsed = now - last;
        if (elapsed <= 0) {
            return;
        }
        if (elapsed >= fillNanos) {
            tokens = burst;
            last = now;
            return;
        }
        long add = elapsed * rate / NANOS_PER_SECOND; // elapsed * rate <= burst * 1e9 + rate: fits
        if (add == 0) {
            return;
        }
        if (tokens + add >= burst) {
            tokens = burst;
            last = now;
        } else {
            tokens += add;
            last += add * NANOS_PER_SECOND / rate; // keep the fraction of a token for the next refill
        }
    }
}
