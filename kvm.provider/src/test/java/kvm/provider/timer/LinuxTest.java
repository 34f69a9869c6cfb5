package kvm.provider.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import kvm.provider.os.Libc;
import kvm.provider.os.NativeCallException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The timer's own calls on the shared libc binding: errno capture, messages, the clock. */
class LinuxTest {
    @BeforeEach
    void linuxOnly() {
        assumeTrue(Linux.supported(), () -> "not supported here: " + Linux.whyUnsupported());
    }

    @Test
    void aFailedCallBecomesAClearExceptionWithItsErrnoName() {
        NativeCallException e = assertThrows(NativeCallException.class,
                () -> Libc.check("timerfd_create", Linux.timerfdCreate(12345, Linux.TFD_CLOEXEC)));
        assertEquals("timerfd_create failed: EINVAL", e.getMessage());
        assertEquals(22, e.errno());
    }

    @Test
    void theMonotonicClockAgreesWithNanoTimeWithinASecond() {
        // Not part of the contract (deadlines are on the provider's own clock); a sanity check of the struct read.
        try (Arena arena = Arena.ofConfined()) {
            long mono = Linux.monotonicNanos(arena.allocate(16, 8));
            assertTrue(mono > 0);
            assertTrue(Math.abs(mono - System.nanoTime()) < 1_000_000_000L, "CLOCK_MONOTONIC " + mono
                    + " vs nanoTime " + System.nanoTime());
        }
    }
}
