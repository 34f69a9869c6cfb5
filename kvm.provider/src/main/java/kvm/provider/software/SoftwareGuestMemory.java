package kvm.provider.software;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import kvm.provider.os.SharedArenas;
import xen.evtchn.api.GuestMemory;

/**
 * Guest RAM allocated off-heap, zeroed and page aligned, so the delivery code's atomic VarHandle
 * operations work on it exactly as on mmap'd KVM memory; extra pages outside it each in their own
 * allocation, found by frame number.
 */
public final class SoftwareGuestMemory implements GuestMemory, AutoCloseable {
    /** Far above what a test guest needs; refuses a typo that would exhaust the host. */
    public static final long MAX_BYTES = 64L << 30;
    /** Guest-physical addresses have 52 bits, the most x86 allows (this memory has no other limit). */
    public static final int PHYS_BITS = 52;

    // Shared: event channel code on any thread writes into guest RAM.
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ram;
    /** The extra pages, each with the arena that frees it. */
    private final Map<Long, ExtraPage> extras = new ConcurrentHashMap<>();
    private boolean closed;

    private record ExtraPage(Arena arena, MemorySegment page) {
    }

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

    /** A zeroed page at {@code gfn}, at or above {@link #size()} and below 2^{@link #PHYS_BITS}; null there or once closed. */
    @Override
    public synchronized MemorySegment mapExtraPage(long gfn) {
        if (closed || gfn < size() / PAGE_SIZE || gfn >= 1L << (PHYS_BITS - 12) || extras.containsKey(gfn)) {
            return null;
        }
        Arena pageArena = Arena.ofShared();
        MemorySegment page = pageArena.allocate(PAGE_SIZE, PAGE_SIZE);
        extras.put(gfn, new ExtraPage(pageArena, page));
        return page;
    }

    @Override
    public synchronized boolean unmapExtraPage(long gfn) {
        ExtraPage e = extras.remove(gfn);
        if (e == null) {
            return false;
        }
        SharedArenas.close(e.arena()); // waits for a backend's I/O on the page, if one is under way
        return true;
    }

    @Override
    public MemorySegment extraPage(long gfn) {
        ExtraPage e = extras.get(gfn);
        return e == null ? null : e.page();
    }

    /** Frees the RAM and the extra pages; later accesses through any view throw IllegalStateException instead of touching freed memory. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Long gfn : extras.keySet()) {
            unmapExtraPage(gfn);
        }
        SharedArenas.close(arena); // waits for a backend's I/O on guest RAM, if one is under way
    }
}
