package xen.block.ring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifResponse;
import xen.evtchn.api.abi.blkif.BlkifRing;

/**
 * The back end of a blkif ring, ring.h's blkif_back_ring_t and its macros: {@code reqCons} (the
 * next request to take) and {@code rspProdPvt} (responses written, not yet pushed) are private;
 * req_prod and rsp_event are the frontend's, req_event and rsp_prod this end's. Every request is
 * copied out of the ring before it is looked at (RING_COPY_REQUEST), so the frontend cannot change
 * it under the checks. Not thread-safe: one thread serves a ring.
 */
public final class BackRing {
    private final RingPages pages;
    private final int slots;
    private final MemorySegment scratch = Arena.ofAuto().allocate(BlkifRing.SLOT_SIZE, 8);
    private int reqCons;
    private int rspProdPvt;

    /**
     * BACK_RING_ATTACH at {@code start}: 0 for a new ring, the shared rsp_prod for a ring taken over
     * from a backend that answered every request it took.
     */
    public BackRing(RingPages pages, int start) {
        this.pages = pages;
        this.slots = BlkifRing.slots(pages.order());
        this.reqCons = start;
        this.rspProdPvt = start;
    }

    /** A ring taken over: its private indices start at the shared rsp_prod. */
    public static BackRing resumed(RingPages pages) {
        return new BackRing(pages, pages.getAcquire(BlkifRing.RSP_PROD));
    }

    public int slots() {
        return slots;
    }

    public int requestsConsumed() {
        return reqCons;
    }

    public int responsesProduced() {
        return rspProdPvt;
    }

    /**
     * Whether the frontend's req_prod claims more requests than the ring can hold
     * (RING_REQUEST_PROD_OVERFLOW): a broken or hostile frontend; nothing is taken then.
     */
    public boolean producerOverflow() {
        int prod = pages.getAcquire(BlkifRing.REQ_PROD);
        return Integer.compareUnsigned(prod - rspProdPvt, slots) > 0;
    }

    /**
     * RING_HAS_UNCONSUMED_REQUESTS: requests published and not taken, at most the free response
     * slots; 0 while the producer index is out of bounds ({@link #producerOverflow()}).
     */
    public int unconsumedRequests() {
        int prod = pages.getAcquire(BlkifRing.REQ_PROD);
        if (Integer.compareUnsigned(prod - rspProdPvt, slots) > 0) {
            return 0;
        }
        int requests = prod - reqCons;
        int room = slots - (reqCons - rspProdPvt);
        return Integer.compareUnsigned(requests, room) < 0 ? requests : room;
    }

    /** Copies the next request out of the ring and takes it (reqCons moves on); call only while {@link #unconsumedRequests()} > 0. */
    public BlkifRequest take() {
        pages.copyOut(BlkifRing.slotOffset(reqCons, slots), scratch);
        reqCons++;
        return BlkifRequest.read(scratch, 0);
    }

    /** Writes a response in the next response slot (not yet visible to the frontend). */
    public void respond(BlkifResponse response) {
        response.write(scratch, 0);
        pages.copyIn(scratch.asSlice(0, BlkifResponse.SIZE), BlkifRing.slotOffset(rspProdPvt, slots));
        rspProdPvt++;
    }

    /**
     * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes the responses written (release: their
     * bytes before rsp_prod), then, after a full barrier, reads rsp_event: whether the frontend
     * asked to be notified of a response among those just pushed.
     */
    public boolean pushResponsesAndCheckNotify() {
        int old = pages.getAcquire(BlkifRing.RSP_PROD);
        int now = rspProdPvt;
        pages.setRelease(BlkifRing.RSP_PROD, now);
        VarHandle.fullFence(); // the frontend sees the new responses before this end reads rsp_event
        int event = pages.getAcquire(BlkifRing.RSP_EVENT);
        return Integer.compareUnsigned(now - event, now - old) < 0;
    }

    /**
     * RING_FINAL_CHECK_FOR_REQUESTS: whether requests are waiting; if none, asks for a
     * notification of the next one (req_event = reqCons + 1) and, after a full barrier, looks
     * again, so a request published meanwhile is not slept through.
     */
    public boolean finalCheckForRequests() {
        if (unconsumedRequests() > 0) {
            return true;
        }
        pages.setRelease(BlkifRing.REQ_EVENT, reqCons + 1);
        VarHandle.fullFence();
        return unconsumedRequests() > 0;
    }
}
