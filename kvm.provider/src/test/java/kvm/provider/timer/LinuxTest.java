package kvm.provider.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import kvm.provider.HostErrno;
import kvm.provider.NativeCallException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The FFM layer under PreciseTimerProvider: errno capture, messages, the clock. */
class LinuxTest {
    @BeforeEach
    void linuxOnly() {
        assumeTrue(Linux.supported(), () -> "not supported here: " + Linux.whyUnsupported());
    }

    @Test
    void aFailedCallBecomesAClearExceptionWithItsErrnoName() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Linux.newCapture(arena);
            NativeCallException e = assertThrows(NativeCallException.class,
                    () -> Linux.check("close", Linux.close(capture, -1), capture));
            assertEquals("close failed: EBADF", e.getMessage());
            assertEquals(9, e.errno());
            assertEquals("close", e.call());

            e = assertThrows(NativeCallException.class, () -> Linux.check("timerfd_create",
                    Linux.timerfdCreate(capture, 12345, Linux.TFD_CLOEXEC), capture));
            assertEquals("timerfd_create failed: EINVAL", e.getMessage());
        }
    }

    @Test
    void errnoNamesCoverTheUsualFailuresAndFallBackToTheNumber() {
        assertEquals("EMFILE", HostErrno.name(24));
        assertEquals("ENFILE", HostErrno.name(23));
        assertEquals("ENOMEM", HostErrno.name(12));
        assertEquals("errno 4095", HostErrno.name(4095));
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
