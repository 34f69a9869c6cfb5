package xen.evtchn.api;

import java.lang.foreign.MemorySegment;

/**
 * A guest's RAM as one segment, guest-physical address 0 at offset 0. Both backends keep it
 * off-heap (mmap'd and registered with KVM, or allocated), so the delivery code sets the very
 * bits the guest reads.
 */
public interface GuestMemory {
    /** Guest page size. */
    int PAGE_SIZE = 4096;

    MemorySegment ram();

    default long size() {
        return ram().byteSize();
    }

    /** The {@code length} bytes at {@code gpa}, or null if any of them lies outside guest RAM. */
    default MemorySegment slice(long gpa, long length) {
        long size = size();
        if (gpa < 0 || length < 0 || gpa > size || length > size - gpa) {
            return null;
        }
        return ram().asSlice(gpa, length);
    }

    /** The guest page with frame number {@code gfn}, or null outside guest RAM. */
    default MemorySegment page(long gfn) {
        return gfn < 0 || gfn > Long.MAX_VALUE / PAGE_SIZE ? null : slice(gfn * PAGE_SIZE, PAGE_SIZE);
    }
}
