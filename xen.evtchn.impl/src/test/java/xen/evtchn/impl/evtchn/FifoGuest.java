package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * A guest's side of the FIFO ABI for tests, reading and writing guest RAM as Linux's FIFO driver
 * does: control blocks at {@link #CONTROL_GFN} (vCPU n at offset n * 128), event array pages from
 * {@link #ARRAY_GFN} on; consuming takes READY with an exchange, the highest priority first, and
 * unlinks each event with compare-and-swap.
 */
final class FifoGuest {
    static final long CONTROL_GFN = 0x20;
    static final long ARRAY_GFN = 0x30;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    final GuestEventChannels d;
    final MemorySegment ram;
    int pages;

    FifoGuest(GuestEventChannels d, GuestMemory memory) {
        this.d = d;
        this.ram = memory.ram();
    }

    /** init_control on every vCPU and {@code pages} array pages. */
    FifoGuest start(int vcpus, int pages) {
        for (int v = 0; v < vcpus; v++) {
            assertEquals(0, d.initControl(CONTROL_GFN, v * 128, v), "init_control vCPU " + v);
        }
        for (int p = 0; p < pages; p++) {
            expand();
        }
        return this;
    }

    void expand() {
        assertEquals(0, d.expandArray(ARRAY_GFN + pages), "expand_array page " + pages);
        pages++;
    }

    long wordAt(int port) {
        return (ARRAY_GFN + port / EvtchnFifo.WORDS_PER_PAGE) * GuestMemory.PAGE_SIZE + 4L * (port % EvtchnFifo.WORDS_PER_PAGE);
    }

    int word(int port) {
        return (int) U32.getVolatile(ram, wordAt(port));
    }

    boolean bit(int port, int bit) {
        return (word(port) & 1 << bit) != 0;
    }

    void clearPending(int port) {
        U32.getAndBitwiseAnd(ram, wordAt(port), ~(1 << EvtchnFifo.PENDING));
    }

    void mask(int port) {
        U32.getAndBitwiseOr(ram, wordAt(port), 1 << EvtchnFifo.MASKED);
    }

    long block(int vcpu) {
        return CONTROL_GFN * GuestMemory.PAGE_SIZE + vcpu * 128L;
    }

    int ready(int vcpu) {
        return (int) U32.getVolatile(ram, block(vcpu) + EvtchnFifo.READY);
    }

    int head(int vcpu, int priority) {
        return (int) U32.getVolatile(ram, block(vcpu) + EvtchnFifo.head(priority));
    }

    /** Linux's handler: every event queued for {@code vcpu}, in the order it consumes them; each pending one's PENDING is cleared. */
    List<Integer> consume(int vcpu) {
        List<Integer> order = new ArrayList<>();
        int[] localHead = new int[EvtchnFifo.MAX_QUEUES];
        int ready = (int) U32.getAndSet(ram, block(vcpu) + EvtchnFifo.READY, 0);
        while (ready != 0) {
            int q = Integer.numberOfTrailingZeros(ready);
            int port = localHead[q] != 0 ? localHead[q] : head(vcpu, q);
            int next = unlink(port);
            if (next == 0) {
                ready &= ~(1 << q);
            }
            if (bit(port, EvtchnFifo.PENDING) && !bit(port, EvtchnFifo.MASKED)) {
                U32.getAndBitwiseAnd(ram, wordAt(port), ~(1 << EvtchnFifo.PENDING));
                order.add(port);
            }
            localHead[q] = next;
            ready |= (int) U32.getAndSet(ram, block(vcpu) + EvtchnFifo.READY, 0);
        }
        return order;
    }

    /** Clears LINKED and LINK; returns the old LINK. */
    int unlink(int port) {
        for (;;) {
            int w = word(port);
            if (U32.compareAndSet(ram, wordAt(port), w, w & ~(1 << EvtchnFifo.LINKED | EvtchnFifo.LINK_MASK))) {
                return w & EvtchnFifo.LINK_MASK;
            }
        }
    }
}
