package xen.evtchn.api;

import java.lang.foreign.MemorySegment;

/**
 * A guest's RAM as one segment, guest-physical address 0 at offset 0. Both backends keep it
 * off-heap (mmap'd and registered with KVM, or allocated), so the delivery code sets the very
 * bits the guest reads. A memory may also put single pages of host memory into guest-physical
 * space outside its RAM ({@link #mapExtraPage}), where Xen would put a frame it owns (a grant
 * table frame in a hole the guest chose); {@link #slice} and {@link #page} see them too.
 */
public interface GuestMemory {
    /** Guest page size. */
    int PAGE_SIZE = 4096;

    MemorySegment ram();

    default long size() {
        return ram().byteSize();
    }

    /**
     * The {@code length} bytes at {@code gpa}, or null if any of them lies outside guest RAM and
     * outside the one {@link #extraPage extra page} holding the first of them.
     */
    default MemorySegment slice(long gpa, long length) {
        long size = size();
        if (gpa < 0 || length < 0) {
            return null;
        }
        if (gpa <= size && length <= size - gpa) {
            return ram().asSlice(gpa, length);
        }
        long offset = gpa % PAGE_SIZE;
        MemorySegment extra = gpa < size ? null : extraPage(gpa / PAGE_SIZE);
        return extra == null || length > PAGE_SIZE - offset ? null : extra.asSlice(offset, length);
    }

    /** The guest page with frame number {@code gfn}, or null outside guest RAM and the extra pages. */
    default MemorySegment page(long gfn) {
        return gfn < 0 || gfn > Long.MAX_VALUE / PAGE_SIZE ? null : slice(gfn * PAGE_SIZE, PAGE_SIZE);
    }

    /**
     * Puts a zeroed page of host memory into guest-physical space at frame {@code gfn}, which lies
     * outside RAM, until {@link #unmapExtraPage}; the guest reads and writes it as memory. Returns
     * the page, or null if this memory cannot (the default) or refuses {@code gfn}: inside
     * {@link #size()}, in a window of the platform (the APICs), beyond the guest's physical
     * address width, already an extra page, or no room for more.
     *
     * @since 1.3
     */
    default MemorySegment mapExtraPage(long gfn) {
        return null;
    }

    /**
     * Takes the extra page at {@code gfn} out of guest-physical space and frees it (a view of it
     * kept by someone throws on access afterwards); false if there is none.
     *
     * @since 1.3
     */
    default boolean unmapExtraPage(long gfn) {
        return false;
    }

    /**
     * The extra page {@link #mapExtraPage} put at {@code gfn}, or null (the default: none).
     *
     * @since 1.3
     */
    default MemorySegment extraPage(long gfn) {
        return null;
    }
}
