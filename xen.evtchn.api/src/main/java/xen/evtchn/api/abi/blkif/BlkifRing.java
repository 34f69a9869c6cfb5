package xen.evtchn.api.abi.blkif;

/**
 * blkif_sring_t (DEFINE_RING_TYPES in public/io/ring.h) on {@code 2^order} pages: four u32
 * indices (req_prod, req_event, rsp_prod, rsp_event), 4 private and 44 padding bytes, then the
 * slots, each a union of a request and a response ({@value #SLOT_SIZE} bytes, the request's
 * size). The slot count is as many as fit, rounded down to a power of two: 32 in one page. The
 * indices run free (u32, wrapping); a slot is {@code index & (slots - 1)}.
 */
public final class BlkifRing {
    public static final int PAGE_SIZE = 4096;
    public static final int REQ_PROD = 0;
    public static final int REQ_EVENT = 4;
    public static final int RSP_PROD = 8;
    public static final int RSP_EVENT = 12;
    /** offsetof(blkif_sring, ring). */
    public static final int HEADER_SIZE = 64;
    /** sizeof(union blkif_sring_entry) = sizeof(struct blkif_request). */
    public static final int SLOT_SIZE = BlkifRequest.SIZE;

    private BlkifRing() {
    }

    /** Slots in a ring of {@code 2^order} pages (__CONST_RING_SIZE): 32 for order 0, 64 for 1, ... 512 for 4. */
    public static int slots(int order) {
        if (order < 0 || order > 16) {
            throw new IllegalArgumentException("ring page order must be 0..16: got " + order);
        }
        long fit = ((long) PAGE_SIZE << order) - HEADER_SIZE;
        return Integer.highestOneBit((int) (fit / SLOT_SIZE));
    }

    /** Byte offset of slot {@code index & (slots - 1)} in the ring. */
    public static long slotOffset(int index, int slots) {
        return HEADER_SIZE + (long) (index & (slots - 1)) * SLOT_SIZE;
    }
}
