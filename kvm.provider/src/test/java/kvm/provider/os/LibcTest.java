package kvm.provider.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The one libc binding: errno capture, its names, failures as clear exceptions. */
class LibcTest {
    @BeforeEach
    void linuxOnly() {
        assumeTrue(System.getProperty("os.name", "").startsWith("Linux"), "not Linux, skipped");
    }

    @Test
    void aFailedCallBecomesAClearExceptionWithItsErrnoName() {
        NativeCallException e = assertThrows(NativeCallException.class, () -> Libc.check("close", Libc.close(-1)));
        assertEquals("close failed: EBADF", e.getMessage());
        assertEquals(9, e.errno());
        assertEquals("close", e.call());
    }

    @Test
    void errnoIsTheCallingThreadsOwn() throws InterruptedException {
        assertEquals(-1, Libc.close(-1));
        Thread other = Thread.ofPlatform().start(() -> {
            try {
                Libc.open("/", Libc.O_RDWR);
            } catch (NativeCallException expected) {
                // EISDIR (21), in that thread's capture
            }
        });
        other.join();
        assertEquals(9, Libc.errno(), "EBADF of this thread's close, not the other thread's error");
    }

    @Test
    void errnoNamesCoverTheUsualFailuresAndFallBackToTheNumber() {
        assertEquals("EMFILE", HostErrno.name(24));
        assertEquals("ENFILE", HostErrno.name(23));
        assertEquals("ENOMEM", HostErrno.name(12));
        assertEquals("errno 4095", HostErrno.name(4095));
    }
}
