package reference.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.VcpuInfoLayout;

/**
 * One vCPU's side of the FIFO ABI, as Linux's events_fifo.c consumes it: per upcall,
 * upcall_pending = 0, then READY is exchanged with 0 and, while any READY bit is left, the
 * highest-priority queue (lowest bit) gives up its head: the event is unlinked with a
 * compare-and-swap that clears LINKED and LINK (the hypervisor may be linking behind it), the
 * queue's READY bit is dropped when that was its last event, and the event is handled if it is
 * pending and not masked (its PENDING cleared first, as Linux's ack). After each event READY is
 * exchanged again, so an event of a higher priority that came meanwhile goes first. The local
 * head of each queue is kept between events, as Linux's per-CPU q->head.
 *
 * <p>Runs on its vCPU only, with interrupts off.
 */
final class FifoScanner implements PortEvents {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle U8 = ValueLayout.JAVA_BYTE.varHandle();

    private final MemorySegment control;
    private final MemorySegment eventArray;
    private final MemorySegment vcpuInfo;
    private final int[] localHead = new int[EvtchnFifo.MAX_QUEUES];
    private PortHandler[] handlers = new PortHandler[1024];

    /**
     * @param control    this vCPU's 72-byte control block
     * @param eventArray the event array pages, contiguous in guest memory (port n's word at 4n)
     * @param vcpuInfo   this vCPU's vcpu_info
     */
    FifoScanner(MemorySegment control, MemorySegment eventArray, MemorySegment vcpuInfo) {
        this.control = control;
        this.eventArray = eventArray;
        this.vcpuInfo = vcpuInfo;
    }

    @Override
    public void bind(int port, PortHandler handler) {
        if (port <= 0 || 4L * port >= eventArray.byteSize()) {
            throw new GuestPanic("the hypervisor returned port " + port + ", outside the event array (1.."
                    + (eventArray.byteSize() / 4 - 1) + ")");
        }
        if (port >= handlers.length) {
            handlers = Arrays.copyOf(handlers, Math.max(port + 1, handlers.length * 2));
        }
        if (handlers[port] != null) {
            throw new GuestPanic("the hypervisor returned port " + port + " twice");
        }
        handlers[port] = handler;
    }

    @Override
    public int handleUpcall() {
        int handled = 0;
        do {
            U8.setVolatile(vcpuInfo, VcpuInfoLayout.X86_64.upcallPending(), (byte) 0);
            handled += consume();
        } while ((byte) U8.getVolatile(vcpuInfo, VcpuInfoLayout.X86_64.upcallPending()) != 0);
        return handled;
    }

    private int consume() {
        int handled = 0;
        int ready = (int) U32.getAndSet(control, (long) EvtchnFifo.READY, 0);
        while (ready != 0) {
            int q = Integer.numberOfTrailingZeros(ready);
            int port = localHead[q] != 0 ? localHead[q] : (int) U32.getVolatile(control, (long) EvtchnFifo.head(q));
            int next = unlink(port);
            if (next == 0) {
                ready &= ~(1 << q);
            }
            localHead[q] = next;
            long at = 4L * port;
            int w = (int) U32.getVolatile(eventArray, at);
            if ((w & 1 << EvtchnFifo.PENDING) != 0 && (w & 1 << EvtchnFifo.MASKED) == 0) {
                U32.getAndBitwiseAnd(eventArray, at, ~(1 << EvtchnFifo.PENDING));
                PortHandler h = port < handlers.length ? handlers[port] : null;
                if (h == null) {
                    throw new GuestPanic("an event on port " + port + ", which this vCPU never bound");
                }
                h.handle(port);
                handled++;
            }
            ready |= (int) U32.getAndSet(control, (long) EvtchnFifo.READY, 0);
        }
        return handled;
    }

    /** Clears LINKED and LINK of {@code port}'s word; returns the old LINK (0: the queue's last event). */
    private int unlink(int port) {
        long at = 4L * port;
        for (;;) {
            int w = (int) U32.getVolatile(eventArray, at);
            if (U32.compareAndSet(eventArray, at, w, w & ~(1 << EvtchnFifo.LINKED | EvtchnFifo.LINK_MASK))) {
                return w & EvtchnFifo.LINK_MASK;
            }
        }
    }
}
