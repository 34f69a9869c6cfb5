package xen.block.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifResponse;
import xen.evtchn.api.abi.blkif.BlkifRing;

/**
 * The back ring on plain memory, the test playing the frontend: ring.h's indices, the hold-off
 * rules of req_event and rsp_event, u32 wrap-around, a multi-page ring's straddling slots, and a
 * frontend whose req_prod runs beyond the ring.
 */
class BackRingTest {
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    /** A ring of 2^order pages, laid out contiguously for the frontend and as separate pages for the backend. */
    private MemorySegment ring(int order) {
        return arena.allocate(4096L << order, 4096);
    }

    private static RingPages pages(MemorySegment ring) {
        int n = (int) (ring.byteSize() / 4096);
        MemorySegment[] pages = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            pages[i] = ring.asSlice(i * 4096L, 4096);
        }
        return new RingPages(pages);
    }

    private static void publish(MemorySegment ring, int slots, int prod, BlkifRequest... requests) {
        for (int i = 0; i < requests.length; i++) {
            requests[i].write(ring, BlkifRing.slotOffset(prod - requests.length + i, slots));
        }
        ring.set(ValueLayout.JAVA_INT, BlkifRing.REQ_PROD, prod);
    }

    private static BlkifRequest read(long id, long sector) {
        return BlkifRequest.rw(0, 0, id, sector, new BlkifRequest.Segment(100 + (int) id, 0, 7));
    }

    @Test
    void requestsAreTakenInOrderAndResponsesPushedWithNotifyAsRspEventAsks() {
        MemorySegment ring = ring(0);
        ring.set(ValueLayout.JAVA_INT, BlkifRing.RSP_EVENT, 1); // SHARED_RING_INIT
        BackRing back = new BackRing(pages(ring), 0);
        assertEquals(32, back.slots());
        assertEquals(0, back.unconsumedRequests());
        publish(ring, 32, 3, read(1, 10), read(2, 20), read(3, 30));
        assertEquals(3, back.unconsumedRequests());
        for (int i = 1; i <= 3; i++) {
            BlkifRequest r = back.take();
            assertEquals(i, r.id());
            assertEquals(i * 10L, r.sectorNumber());
            assertEquals(100 + i, r.gref(0));
            back.respond(new BlkifResponse(r.id(), r.operation(), 0));
        }
        assertTrue(back.pushResponsesAndCheckNotify(), "rsp_event 1 is among responses 1..3");
        assertEquals(3, ring.get(ValueLayout.JAVA_INT, BlkifRing.RSP_PROD));
        for (int i = 0; i < 3; i++) {
            assertEquals(new BlkifResponse(i + 1, 0, 0), BlkifResponse.read(ring, BlkifRing.slotOffset(i, 32)));
        }

        // The frontend is not waiting (rsp_event still 1): no notification for the next one.
        publish(ring, 32, 4, read(4, 40));
        back.respond(new BlkifResponse(back.take().id(), 0, 0));
        assertFalse(back.pushResponsesAndCheckNotify());
        // It waits for response 6 onwards (RING_FINAL_CHECK_FOR_RESPONSES after taking 4 and 5...).
        ring.set(ValueLayout.JAVA_INT, BlkifRing.RSP_EVENT, 6);
        publish(ring, 32, 5, read(5, 50));
        back.respond(new BlkifResponse(back.take().id(), 0, 0));
        assertFalse(back.pushResponsesAndCheckNotify(), "response 5 is before rsp_event 6");
        publish(ring, 32, 6, read(6, 60));
        back.respond(new BlkifResponse(back.take().id(), 0, 0));
        assertTrue(back.pushResponsesAndCheckNotify(), "response 6 reaches rsp_event");
    }

    @Test
    void theFinalCheckArmsReqEventAndSeesALateRequest() {
        MemorySegment ring = ring(0);
        BackRing back = new BackRing(pages(ring), 0);
        publish(ring, 32, 2, read(1, 0), read(2, 0));
        assertTrue(back.finalCheckForRequests(), "work waiting: req_event untouched");
        assertEquals(0, ring.get(ValueLayout.JAVA_INT, BlkifRing.REQ_EVENT));
        back.take();
        back.take();
        assertFalse(back.finalCheckForRequests());
        assertEquals(3, ring.get(ValueLayout.JAVA_INT, BlkifRing.REQ_EVENT), "req_cons + 1");
        publish(ring, 32, 3, read(3, 0));
        assertTrue(back.finalCheckForRequests());
    }

    @Test
    void indicesWrapAroundTwoToThe32() {
        MemorySegment ring = ring(0);
        int start = 0xFFFF_FFFE;
        ring.set(ValueLayout.JAVA_INT, BlkifRing.RSP_PROD, start);
        ring.set(ValueLayout.JAVA_INT, BlkifRing.RSP_EVENT, start + 1);
        BackRing back = BackRing.resumed(pages(ring));
        assertEquals(start, back.requestsConsumed(), "a resumed ring starts at rsp_prod");
        publish(ring, 32, start + 4, read(1, 0), read(2, 0), read(3, 0), read(4, 0));
        assertEquals(4, back.unconsumedRequests());
        for (int i = 1; i <= 4; i++) {
            BlkifRequest r = back.take();
            assertEquals(i, r.id());
            back.respond(new BlkifResponse(r.id(), 0, 0));
        }
        assertTrue(back.pushResponsesAndCheckNotify());
        assertEquals(start + 4, ring.get(ValueLayout.JAVA_INT, BlkifRing.RSP_PROD));
        assertEquals(2, back.responsesProduced());
    }

    @Test
    void aFullRingOfSixteenPagesStraddlesPagesAndIsServedWhole() {
        MemorySegment ring = ring(4);
        BackRing back = new BackRing(pages(ring), 0);
        assertEquals(512, back.slots());
        BlkifRequest[] all = new BlkifRequest[512];
        for (int i = 0; i < all.length; i++) {
            all[i] = read(i + 1, i * 8L);
        }
        publish(ring, 512, 512, all);
        assertEquals(512, back.unconsumedRequests());
        for (int i = 0; i < 512; i++) {
            BlkifRequest r = back.take();
            assertEquals(i + 1, r.id(), "slot " + i + " at byte " + BlkifRing.slotOffset(i, 512));
            assertEquals(i * 8L, r.sectorNumber());
            assertEquals(101 + i, r.gref(0));
            back.respond(new BlkifResponse(r.id(), 0, -1));
        }
        back.pushResponsesAndCheckNotify();
        for (int i = 0; i < 512; i++) {
            assertEquals(new BlkifResponse(i + 1, 0, -1), BlkifResponse.read(ring, BlkifRing.slotOffset(i, 512)));
        }
    }

    @Test
    void aReqProdBeyondTheRingIsNotFollowed() {
        MemorySegment ring = ring(0);
        BackRing back = new BackRing(pages(ring), 0);
        ring.set(ValueLayout.JAVA_INT, BlkifRing.REQ_PROD, 33);
        assertTrue(back.producerOverflow());
        assertEquals(0, back.unconsumedRequests(), "33 requests cannot be on a 32-slot ring");
        ring.set(ValueLayout.JAVA_INT, BlkifRing.REQ_PROD, -1);
        assertEquals(0, back.unconsumedRequests());
        ring.set(ValueLayout.JAVA_INT, BlkifRing.REQ_PROD, 32);
        assertFalse(back.producerOverflow());
        assertEquals(32, back.unconsumedRequests(), "a full ring is fine");
    }

    @Test
    void ringPagesMustBeAPowerOfTwoOfWholePages() {
        assertThrows(IllegalArgumentException.class, () -> new RingPages());
        assertThrows(IllegalArgumentException.class, () -> new RingPages(ring(0), ring(0), ring(0)));
        assertThrows(IllegalArgumentException.class, () -> new RingPages(arena.allocate(100)));
    }
}
