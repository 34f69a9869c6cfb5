package xen.block.front;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifResponse;
import xen.evtchn.api.abi.blkif.BlkifRing;

/**
 * A blkfront in Java, on a {@link FrontGuest}: the front half of a blkif ring (ring.h's FRONT_RING
 * macros, with their barriers), its pages granted to domain 0, a port offered to it, and request
 * buffers of eleven granted pages each (one per request in flight), granted once (as blkfront's
 * persistent grants are, though the backend is not told). One thread uses it at a time.
 * <p>
 * It checks the backend as a suspicious frontend would: every response must answer a request
 * that is waiting for one, once; anything else is recorded in {@link #anomalies()}.
 */
public final class BlkFront {
    /** Requests in flight at most (each holds one buffer), unless given. */
    public static final int BUFFERS = 32;
    private static final int PAGE = 4096;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private FrontGuest guest;
    private final int order;
    private final int slots;
    private final long ringGfn;
    private MemorySegment ring;
    private final int[] ringRefs;
    private final int port;
    private final long[] bufferGfns;
    private final int[] bufferRefs;
    private final Deque<Integer> freeBuffers = new ArrayDeque<>();
    private final Map<Long, Pending> outstanding = new HashMap<>();
    private final Map<Long, Integer> statuses = new LinkedHashMap<>();
    private final List<String> anomalies = new ArrayList<>();
    private int reqProdPvt;
    private int rspCons;
    private long nextId = 1;
    private long notifications;

    private record Pending(long id, int operation, int buffer, byte[] into) {
    }

    /** A ring of 2^order pages, SHARED_RING_INIT'ed, and {@value #BUFFERS} buffers, all granted; a port offered to domain 0. */
    public BlkFront(FrontGuest guest, int order) {
        this(guest, order, BUFFERS);
    }

    /** As {@link #BlkFront(FrontGuest, int)}, with {@code buffers} requests in flight at most. */
    public BlkFront(FrontGuest guest, int order, int buffers) {
        this.guest = guest;
        this.bufferGfns = new long[buffers * Blkif.MAX_SEGMENTS_PER_REQUEST];
        this.bufferRefs = new int[buffers * Blkif.MAX_SEGMENTS_PER_REQUEST];
        this.order = order;
        this.slots = BlkifRing.slots(order);
        int pages = 1 << order;
        long first = guest.allocPage();
        for (int i = 1; i < pages; i++) {
            if (guest.allocPage() != first + i) {
                throw new IllegalStateException("ring pages not contiguous");
            }
        }
        this.ringGfn = first;
        this.ring = guest.frames(first, pages);
        // SHARED_RING_INIT: producers at 0, events at 1, padding zero (the pages are fresh).
        U32.setRelease(ring, (long) BlkifRing.REQ_EVENT, 1);
        U32.setRelease(ring, (long) BlkifRing.RSP_EVENT, 1);
        this.ringRefs = new int[pages];
        for (int i = 0; i < pages; i++) {
            ringRefs[i] = guest.grant(first + i, false);
        }
        for (int i = 0; i < bufferGfns.length; i++) {
            bufferGfns[i] = guest.allocPage();
            bufferRefs[i] = guest.grant(bufferGfns[i], false);
        }
        for (int b = 0; b < buffers; b++) {
            freeBuffers.add(b);
        }
        this.port = guest.allocUnbound();
    }

    /**
     * The domain was saved and restored as {@code restored}, its memory copied: this frontend
     * carries on there, as the guest's kernel does (its state is the kernel's, which moved with
     * the memory), with the same ring, grants and port. The guest is not told.
     */
    public void moveTo(FrontGuest restored) {
        this.guest = restored;
        this.ring = restored.frames(ringGfn, 1 << order);
    }

    /** The nodes blkfront writes in its directory before it goes to Initialised (talk_to_blkback). */
    public Map<String, String> nodes() {
        Map<String, String> nodes = new LinkedHashMap<>();
        if (order == 0) {
            nodes.put(Blkif.NODE_RING_REF, Integer.toUnsignedString(ringRefs[0]));
        } else {
            nodes.put(Blkif.NODE_RING_PAGE_ORDER, Integer.toString(order));
            for (int i = 0; i < ringRefs.length; i++) {
                nodes.put(Blkif.ringRef(i), Integer.toUnsignedString(ringRefs[i]));
            }
        }
        nodes.put(Blkif.NODE_EVENT_CHANNEL, Integer.toString(port));
        nodes.put(Blkif.NODE_PROTOCOL, Blkif.PROTOCOL_X86_64);
        return nodes;
    }

    public int port() {
        return port;
    }

    public int slots() {
        return slots;
    }

    /** The grant of page {@code page} (0..10) of buffer 0, for hand-made requests. */
    public int bufferRef(int page) {
        return bufferRefs[page];
    }

    /** The guest's view of page {@code page} of buffer 0. */
    public MemorySegment bufferPage(int page) {
        return frame(bufferGfns[page]);
    }

    /** Times this frontend pushed requests and ring.h said to notify. */
    public long notifications() {
        return notifications;
    }

    /** The statuses of the requests answered, by id, in the order answered. */
    public Map<Long, Integer> statuses() {
        return Collections.unmodifiableMap(statuses);
    }

    /**
     * Forgets the statuses recorded so far (a long run's would pile up); an answer to one of their
     * ids counts as never sent from then on.
     */
    public void forgetStatuses() {
        statuses.clear();
    }

    /** Responses that answered no waiting request (a duplicate, an unknown id), and broken indices. */
    public List<String> anomalies() {
        return Collections.unmodifiableList(anomalies);
    }

    public int inFlight() {
        return outstanding.size();
    }

    /** Queues a write of {@code data} (a multiple of 512 bytes, at most 44 KiB) at {@code sector}; returns its id. */
    public long submitWrite(long sector, byte[] data) {
        return submitData(Blkif.OP_WRITE, sector, data);
    }

    /** Queues a flush that also writes {@code data} (none: a bare flush), as blkfront sends REQ_FUA/PREFLUSH. */
    public long submitFlush(int operation, long sector, byte[] data) {
        return submitData(operation, sector, data);
    }

    private long submitData(int operation, long sector, byte[] data) {
        int buffer = takeBuffer();
        int pages = (data.length + PAGE - 1) / PAGE;
        BlkifRequest.Segment[] segs = new BlkifRequest.Segment[pages];
        for (int p = 0; p < pages; p++) {
            int n = Math.min(PAGE, data.length - p * PAGE);
            MemorySegment.copy(data, p * PAGE, frame(bufferGfns[buffer * Blkif.MAX_SEGMENTS_PER_REQUEST + p]),
                    ValueLayout.JAVA_BYTE, 0, n);
            segs[p] = new BlkifRequest.Segment(bufferRefs[buffer * Blkif.MAX_SEGMENTS_PER_REQUEST + p], 0, n / 512 - 1);
        }
        long id = nextId++;
        push(BlkifRequest.rw(operation, 0, id, sector, segs), new Pending(id, operation, buffer, null));
        return id;
    }

    /** Queues a read of {@code into.length} bytes (a multiple of 512, at most 44 KiB) from {@code sector} into {@code into}. */
    public long submitRead(long sector, byte[] into) {
        int buffer = takeBuffer();
        int pages = (into.length + PAGE - 1) / PAGE;
        BlkifRequest.Segment[] segs = new BlkifRequest.Segment[pages];
        for (int p = 0; p < pages; p++) {
            int n = Math.min(PAGE, into.length - p * PAGE);
            segs[p] = new BlkifRequest.Segment(bufferRefs[buffer * Blkif.MAX_SEGMENTS_PER_REQUEST + p], 0, n / 512 - 1);
        }
        long id = nextId++;
        push(BlkifRequest.rw(Blkif.OP_READ, 0, id, sector, segs), new Pending(id, Blkif.OP_READ, buffer, into));
        return id;
    }

    /** Queues {@code request} as it is (any id, any segments): for requests a correct frontend never sends. */
    public void submitRaw(BlkifRequest request) {
        push(request, new Pending(request.id(), request.operation(), takeBuffer(), null));
    }

    private int takeBuffer() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (freeBuffers.isEmpty() || reqProdPvt - rspCons >= slots) {
            if (collect() == 0) {
                waitBriefly(deadline, "a free buffer");
            }
        }
        return freeBuffers.pop();
    }

    /** Writes the request into its slot and RING_PUSH_REQUESTS_AND_CHECK_NOTIFY, then EVTCHNOP_send if told. */
    private void push(BlkifRequest request, Pending pending) {
        if (outstanding.putIfAbsent(pending.id(), pending) != null) {
            throw new IllegalArgumentException("id " + pending.id() + " is in flight already");
        }
        request.write(ring, BlkifRing.slotOffset(reqProdPvt, slots));
        reqProdPvt++;
        int old = (int) U32.getAcquire(ring, (long) BlkifRing.REQ_PROD);
        U32.setRelease(ring, (long) BlkifRing.REQ_PROD, reqProdPvt);
        VarHandle.fullFence();
        int event = (int) U32.getAcquire(ring, (long) BlkifRing.REQ_EVENT);
        if (Integer.compareUnsigned(reqProdPvt - event, reqProdPvt - old) < 0) {
            notifications++;
            guest.notify(port);
        }
    }

    /** Takes the responses published, then RING_FINAL_CHECK_FOR_RESPONSES; returns how many were taken. */
    public int collect() {
        int taken = 0;
        while (true) {
            int prod = (int) U32.getAcquire(ring, (long) BlkifRing.RSP_PROD);
            if (Integer.compareUnsigned(prod - rspCons, slots) > 0) {
                anomalies.add("rsp_prod " + Integer.toUnsignedString(prod) + " beyond the ring (rsp_cons " + rspCons + ")");
                return taken;
            }
            for (; rspCons != prod; rspCons++) {
                answered(BlkifResponse.read(ring, BlkifRing.slotOffset(rspCons, slots)));
                taken++;
            }
            U32.setRelease(ring, (long) BlkifRing.RSP_EVENT, rspCons + 1);
            VarHandle.fullFence();
            if ((int) U32.getAcquire(ring, (long) BlkifRing.RSP_PROD) == rspCons) {
                return taken;
            }
        }
    }

    private void answered(BlkifResponse r) {
        Pending p = outstanding.remove(r.id());
        if (p == null) {
            anomalies.add("response to id " + r.id() + (statuses.containsKey(r.id()) ? ", answered before" : ", never sent"));
            return;
        }
        if (r.operation() != p.operation()) {
            anomalies.add("response to id " + r.id() + " has operation " + r.operation() + ", not " + p.operation());
        }
        statuses.put(r.id(), r.status());
        if (p.into() != null && r.status() == Blkif.RSP_OKAY) {
            for (int off = 0; off < p.into().length; off += PAGE) {
                int n = Math.min(PAGE, p.into().length - off);
                MemorySegment.copy(frame(bufferGfns[p.buffer() * Blkif.MAX_SEGMENTS_PER_REQUEST + off / PAGE]),
                        ValueLayout.JAVA_BYTE, 0, p.into(), off, n);
            }
        }
        freeBuffers.push(p.buffer());
    }

    /** Waits until every request in flight is answered. */
    public void drain() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!outstanding.isEmpty()) {
            if (collect() == 0) {
                waitBriefly(deadline, outstanding.size() + " answers");
            }
        }
    }

    /** Waits for the answer to {@code id}; returns its status. */
    public int await(long id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (outstanding.containsKey(id)) {
            if (collect() == 0) {
                waitBriefly(deadline, "the answer to id " + id);
            }
        }
        Integer status = statuses.get(id);
        if (status == null) {
            throw new AssertionError("id " + id + " was never sent");
        }
        return status;
    }

    public int write(long sector, byte[] data) {
        return await(submitWrite(sector, data));
    }

    public int read(long sector, byte[] into) {
        return await(submitRead(sector, into));
    }

    private MemorySegment frame(long gfn) {
        return guest.frames(gfn, 1);
    }

    private static void waitBriefly(long deadline, String what) {
        if (System.nanoTime() - deadline > 0) {
            throw new AssertionError("timed out waiting for " + what);
        }
        LockSupport.parkNanos(20_000); // not a spin: two cores, and the backend needs one
    }
}
