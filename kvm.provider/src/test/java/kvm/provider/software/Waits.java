package kvm.provider.software;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.BooleanSupplier;

/** Bounded waits, so a lost wake-up fails the test instead of hanging it. */
final class Waits {
    static final long TIMEOUT_NANOS = 10_000_000_000L;

    private Waits() {
    }

    static void until(BooleanSupplier condition) {
        wait(condition, false);
    }

    /** As {@link #until}, reacting within nanoseconds: for tests that aim at a race window. */
    static void spinUntil(BooleanSupplier condition) {
        wait(condition, true);
    }

    private static void wait(BooleanSupplier condition, boolean spin) {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not reached within 10 s");
            }
            if (spin) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
