package xen.block.ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.blkif.BlkifRing;

/**
 * The pages of a ring as one byte range, though each is a mapping of its own (a multi-page ring's
 * pages are not contiguous in the backend): a slot may straddle two pages, so bytes are copied in
 * pieces. The indices are in the first page, read and written with acquire/release, as ring.h's
 * barriers order them.
 */
public final class RingPages {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private final MemorySegment[] pages;

    /** @param pages the ring's pages in order, each {@value BlkifRing#PAGE_SIZE} bytes */
    public RingPages(MemorySegment... pages) {
        if (pages.length == 0 || Integer.bitCount(pages.length) != 1) {
            throw new IllegalArgumentException("a ring has a power of two of pages: got " + pages.length);
        }
        for (MemorySegment p : pages) {
            if (p.byteSize() != BlkifRing.PAGE_SIZE) {
                throw new IllegalArgumentException("a ring page has " + BlkifRing.PAGE_SIZE + " bytes: got " + p.byteSize());
            }
        }
        this.pages = pages.clone();
    }

    public int pageCount() {
        return pages.length;
    }

    /** The ring page order: log2 of the page count. */
    public int order() {
        return Integer.numberOfTrailingZeros(pages.length);
    }

    /** Reads the index at {@code offset} of the header, with acquire semantics (the other end's stores before it are seen). */
    int getAcquire(int offset) {
        return (int) U32.getAcquire(pages[0], (long) offset);
    }

    /** Writes the index at {@code offset} of the header, with release semantics (this end's stores before it are seen first). */
    void setRelease(int offset, int value) {
        U32.setRelease(pages[0], (long) offset, value);
    }

    /** Copies {@code to.byteSize()} bytes from ring offset {@code offset}. */
    void copyOut(long offset, MemorySegment to) {
        long done = 0;
        while (done < to.byteSize()) {
            long at = offset + done;
            int page = (int) (at / BlkifRing.PAGE_SIZE);
            long in = at % BlkifRing.PAGE_SIZE;
            long n = Math.min(to.byteSize() - done, BlkifRing.PAGE_SIZE - in);
            MemorySegment.copy(pages[page], in, to, done, n);
            done += n;
        }
    }

    /** Copies {@code from} to ring offset {@code offset}. */
    void copyIn(MemorySegment from, long offset) {
        long done = 0;
        while (done < from.byteSize()) {
            long at = offset + done;
            int page = (int) (at / BlkifRing.PAGE_SIZE);
            long in = at % BlkifRing.PAGE_SIZE;
            long n = Math.min(from.byteSize() - done, BlkifRing.PAGE_SIZE - in);
            MemorySegment.copy(from, done, pages[page], in, n);
            done += n;
        }
    }
}
