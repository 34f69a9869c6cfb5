package xen.evtchn.impl.delivery;

import static xen.evtchn.api.abi.EvtchnFifo.BUSY;
import static xen.evtchn.api.abi.EvtchnFifo.LINKED;
import static xen.evtchn.api.abi.EvtchnFifo.LINK_MASK;
import static xen.evtchn.api.abi.EvtchnFifo.MASKED;
import static xen.evtchn.api.abi.EvtchnFifo.MAX_PAGES;
import static xen.evtchn.api.abi.EvtchnFifo.MAX_QUEUES;
import static xen.evtchn.api.abi.EvtchnFifo.PENDING;
import static xen.evtchn.api.abi.EvtchnFifo.READY;
import static xen.evtchn.api.abi.EvtchnFifo.WORDS_PER_PAGE;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntConsumer;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.impl.port.PortEntry;
import xen.evtchn.impl.port.PortTable;

/**
 * The FIFO ABI (Xen's event_fifo.c semantics): each port's event word in the guest's event
 * array pages (PENDING, MASKED, LINKED, BUSY, LINK), per vCPU a control block with READY and one
 * queue head per priority, and here the tail of each queue. An event newly pending and unmasked is
 * linked onto the tail of its vCPU's queue for its priority: by compare-and-swap on the tail's
 * LINK while the guest may be unlinking it concurrently, or, if the queue is empty, by writing the
 * head; only a new head sets READY (and a READY newly set raises the upcall).
 * <p>
 * Linking is serialised by one lock per domain (Xen has one per queue; a queue change then
 * needs two). The guest's own changes to event words are atomic and need no lock. A port whose
 * array page is missing keeps its event in {@link #pendingWithoutPage} until expand_array brings
 * the page; an event for a vCPU without a control block is dropped, its PENDING bit set.
 * <p>
 * An event may still be the tail of a queue that is empty (the guest consumed it): Xen's "old
 * tail". If it is linked again, onto the same queue or, after bind_vcpu, set_priority or a close
 * and a new bind, onto another, the old queue's tail is forgotten first, so that the next event of
 * the old queue starts a new head instead of linking behind it in the wrong queue.
 * {@link #movedTails} keeps the queues whose tail port was moved away.
 */
public final class Fifo implements EventDelivery {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final int NO_TAIL = 0;

    private final PortTable ports;
    private final IntConsumer markEventsPending;
    private final Upcalls upcalls;
    private final AtomicReferenceArray<MemorySegment> controlBlocks;
    private final MemorySegment[] pages = new MemorySegment[MAX_PAGES];
    /** For a save: where the guest put each control block and array page. Written under the domain's write lock. */
    private final long[] controlAt;
    private final long[] pageGfns = new long[MAX_PAGES];
    private volatile int words;
    /** Guarded by this: the tail port of each queue (vCPU * 16 + priority), 0 if none. */
    private final int[] tails;
    /** Guarded by this: queues whose tail port has since moved to another queue. */
    private final BitSet movedTails = new BitSet();
    /** Guarded by this: ports that were raised while their array page was missing. */
    private final BitSet pendingWithoutPage = new BitSet();

    public Fifo(PortTable ports, int vcpus, IntConsumer markEventsPending, Upcalls upcalls) {
        this.ports = ports;
        this.markEventsPending = markEventsPending;
        this.upcalls = upcalls;
        this.controlBlocks = new AtomicReferenceArray<>(vcpus);
        this.controlAt = new long[vcpus];
        Arrays.fill(controlAt, VcpuInfos.NOWHERE);
        this.tails = new int[vcpus * MAX_QUEUES];
    }

    // ---- set-up (the domain's write lock held) ------------------------------------------------

    /** The control block of {@code vcpu}, or null. */
    public MemorySegment controlBlock(int vcpu) {
        return controlBlocks.get(vcpu);
    }

    /** EVTCHNOP_init_control's mapping, at guest-physical {@code gpa}: false if the vCPU has one already. */
    public boolean mapControlBlock(int vcpu, long gpa, MemorySegment block) {
        if (!controlBlocks.compareAndSet(vcpu, null, block)) {
            return false;
        }
        controlAt[vcpu] = gpa;
        return true;
    }

    /** Event array pages so far. */
    public int pages() {
        return words / WORDS_PER_PAGE;
    }

    /** EVTCHNOP_expand_array's page, guest frame {@code gfn}: the next 1024 ports' words (the caller refuses a 129th). */
    public synchronized void addPage(long gfn, MemorySegment page) {
        int slot = words / WORDS_PER_PAGE;
        pages[slot] = page;
        pageGfns[slot] = gfn;
        words += WORDS_PER_PAGE; // volatile: publishes the page to wordOf
    }

    /** Ports raised while their page was missing, among {@code from} .. {@code to} - 1, taken. */
    public synchronized int[] takePendingWithoutPage(int from, int to) {
        int[] taken = pendingWithoutPage.get(from, to).stream().map(i -> i + from).toArray();
        pendingWithoutPage.clear(from, to);
        return taken;
    }

    /** Carries a 2-level pending bit over: the port is raised once its page comes. */
    public synchronized void pendingFromTwoLevel(int port) {
        pendingWithoutPage.set(port);
    }

    /**
     * bind_vcpu, set_priority or a close takes {@code port} away from queue ({@code vcpu},
     * {@code priority}): keep track if it is that queue's tail.
     */
    public synchronized void leavingQueue(int port, int vcpu, int priority) {
        int q = vcpu * MAX_QUEUES + priority;
        if (tails[q] == port) {
            movedTails.set(q);
        }
    }

    /** The state a save takes (the domain's write lock held). */
    public synchronized FifoImage image() {
        return new FifoImage(controlAt.clone(), Arrays.copyOf(pageGfns, pages()), tails.clone(),
                movedTails.stream().toArray(), pendingWithoutPage.stream().toArray());
    }

    /** A restore (the domain not yet running): queues' tails and the ports raised before their page, as saved. */
    public synchronized void restore(FifoImage image) {
        System.arraycopy(image.tails(), 0, tails, 0, tails.length);
        for (int q : image.movedTails()) {
            movedTails.set(q);
        }
        for (int port : image.pendingWithoutPage()) {
            pendingWithoutPage.set(port);
        }
    }

    // ---- EventDelivery --------------------------------------------------------------------------

    /** The port's event word, or null if its array page is not there yet. */
    private MemorySegment pageOf(int port) {
        return port < words ? pages[port / WORDS_PER_PAGE] : null;
    }

    private static long offset(int port) {
        return 4L * (port % WORDS_PER_PAGE);
    }

    @Override
    public void setPending(int port, int vcpu) {
        boolean newHead;
        int priority;
        synchronized (this) {
            // Looked up under the lock: expand_array adds a page and takes the events held for it under it too.
            MemorySegment page = pageOf(port);
            if (page == null) {
                pendingWithoutPage.set(port);
                return;
            }
            long at = offset(port);
            boolean wasPending = testAndSet(page, at, PENDING);
            MemorySegment block = controlBlocks.get(vcpu);
            if (block == null) {
                // No control block on that vCPU: the guest must not unmask before it has one; dropped (XSA-107).
                if (!wasPending) {
                    upcalls.portPending(port);
                }
                return;
            }
            newHead = false;
            priority = PortEntry.priority(ports.get(port));
            if (!test(page, at, MASKED) && !testAndSet(page, at, LINKED)) {
                int q = vcpu * MAX_QUEUES + priority;
                forgetAsTail(port, q);
                boolean linked = false;
                int tail = tails[q];
                if (tail != NO_TAIL) {
                    MemorySegment tailPage = pageOf(tail);
                    linked = tailPage != null && link(tailPage, offset(tail), port);
                }
                if (!linked) {
                    U32.setVolatile(block, (long) EvtchnFifo.head(priority), port);
                    newHead = true;
                }
                tails[q] = port;
                movedTails.clear(q);
            }
            if (newHead && !testAndSet(block, READY, priority)) {
                markEventsPending.accept(vcpu);
            }
            if (!wasPending) {
                upcalls.portPending(port);
            }
        }
    }

    /** Before {@code port} joins queue {@code q}: it may still be a tail, of {@code q} or of a queue it left. */
    private void forgetAsTail(int port, int q) {
        if (tails[q] == port) {
            tails[q] = NO_TAIL; // the queue is empty; its stale tail would look linked now
        }
        for (int moved = movedTails.nextSetBit(0); moved >= 0; moved = movedTails.nextSetBit(moved + 1)) {
            if (tails[moved] == port) {
                tails[moved] = NO_TAIL;
                movedTails.clear(moved);
            }
        }
    }

    /**
     * Sets the LINK of the tail's word to {@code port} if the tail is still LINKED (the guest has
     * not consumed it). The guest may meanwhile set or clear MASKED, clear PENDING or unlink it;
     * BUSY keeps it from unmasking, so after a few tries the swap succeeds or the tail is unlinked.
     */
    private static boolean link(MemorySegment page, long at, int port) {
        int w = (int) U32.getVolatile(page, at);
        if ((w & 1 << LINKED) == 0) {
            return false;
        }
        if (U32.compareAndSet(page, at, w, w & ~(1 << BUSY | LINK_MASK) | port)) {
            return true;
        }
        U32.getAndBitwiseOr(page, at, 1 << BUSY);
        for (int tries = 0; tries < 4; tries++) {
            w = (int) U32.getVolatile(page, at);
            if ((w & 1 << LINKED) == 0) {
                U32.getAndBitwiseAnd(page, at, ~(1 << BUSY));
                return false;
            }
            if (U32.compareAndSet(page, at, w, w & ~(1 << BUSY | LINK_MASK) | port)) {
                return true;
            }
        }
        U32.getAndBitwiseAnd(page, at, ~(1 << BUSY));
        return true; // as Xen: the guest kept changing the word; the event is treated as linked
    }

    @Override
    public void clearPending(int port) {
        MemorySegment page = pageOf(port);
        if (page != null) {
            U32.getAndBitwiseAnd(page, offset(port), ~(1 << PENDING));
        }
        synchronized (this) {
            pendingWithoutPage.clear(port);
        }
    }

    @Override
    public void unmask(int port, int vcpu) {
        MemorySegment page = pageOf(port);
        if (page == null) {
            return;
        }
        U32.getAndBitwiseAnd(page, offset(port), ~(1 << MASKED));
        if (test(page, offset(port), PENDING)) {
            setPending(port, vcpu);
        }
    }

    @Override
    public boolean isPending(int port) {
        MemorySegment page = pageOf(port);
        return page != null && test(page, offset(port), PENDING);
    }

    @Override
    public boolean isMasked(int port) {
        MemorySegment page = pageOf(port);
        return page == null || test(page, offset(port), MASKED);
    }

    /** A closed port still LINKED in a queue is not reused until the guest has unlinked it. */
    @Override
    public boolean isBusy(int port) {
        MemorySegment page = pageOf(port);
        return page != null && test(page, offset(port), LINKED);
    }

    @Override
    public void vcpuInfoMoved(int vcpu) {
        markEventsPending.accept(vcpu);
    }

    private static boolean testAndSet(MemorySegment s, long at, int bit) {
        return ((int) U32.getAndBitwiseOr(s, at, 1 << bit) & 1 << bit) != 0;
    }

    private static boolean test(MemorySegment s, long at, int bit) {
        return ((int) U32.getVolatile(s, at) & 1 << bit) != 0;
    }
}
