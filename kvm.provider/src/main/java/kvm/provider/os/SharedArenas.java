package kvm.provider.os;

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Closing the shared arena of guest memory while a host backend may be in a file I/O on it.
 * xen.block reads and writes a guest's granted pages straight from the image file (a direct
 * ByteBuffer over the mapped page, as blkback hands the guest's pages to the block layer); for the
 * length of that system call the JDK holds the page's arena acquired, and {@link Arena#close()}
 * refuses with IllegalStateException ("Session is acquired") instead of freeing memory the kernel
 * is reading or writing. Xen keeps a page with a grant mapping alive until it is unmapped; here
 * the closer waits for the I/O (a page-cache read or write: microseconds), then frees the memory.
 */
public final class SharedArenas {
    /** How long an I/O may hold the memory before the closer gives up and says so. */
    static final long WAIT_SECONDS = 30;

    private SharedArenas() {
    }

    /**
     * Closes {@code arena}, waiting while an I/O holds it; does nothing if it is closed already.
     *
     * @throws IllegalStateException if it is still held after {@value #WAIT_SECONDS} s (an I/O
     *                               that hangs: the memory is left allocated, not freed under it)
     */
    public static void close(Arena arena) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (arena.scope().isAlive()) {
            try {
                arena.close();
                return;
            } catch (IllegalStateException e) {
                if (!arena.scope().isAlive()) {
                    return; // closed by someone else meanwhile
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("guest memory still in use by an I/O after " + WAIT_SECONDS
                            + " s: left allocated (" + e.getMessage() + ")", e);
                }
                LockSupport.parkNanos(50_000);
            }
        }
    }
}
