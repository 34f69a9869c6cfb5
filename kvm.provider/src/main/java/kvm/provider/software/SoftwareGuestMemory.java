package kvm.provider.software;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import xen.evtchn.api.GuestMemory;

/**
 * Guest RAM allocated off-heap, zeroed and page aligned, so the delivery code's atomic VarHandle
 * operations work on it exactly as on mmap'd KVM memory.
 */
public final class SoftwareGuestMemory implements GuestMemory, AutoCloseable {
    /** Far above what a test guest needs; refuses a typo that would exhaust the host. */
    public static final long MAX_BYTES = 64L << 30;

    // Shared: event channel code on any thread writes into guest RAM.
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ram;

    /** Allocates {@code bytes} of zeroed guest RAM: a positive multiple of the page size, at most {@link #MAX_BYTES}. */
    public SoftwareGuestMemory(long bytes) {
        if (bytes <= 0 || bytes % PAGE_SIZE != 0 || bytes > MAX_BYTES) {
            throw new IllegalArgumentException("guest RAM must be a positive multiple of " + PAGE_SIZE
                    + " bytes, at most " + MAX_BYTES + ": got " + bytes);
        }
        ram = arena.allocate(bytes, PAGE_SIZE);
    }

    @Override
    public MemorySegment ram() {
        return ram;
    }

    /** Frees the RAM; later accesses through any view throw IllegalStateException instead of touching freed memory. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
