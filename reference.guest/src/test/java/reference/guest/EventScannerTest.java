package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;

/** The 2-level scan on shared_info and vcpu_info words set up by hand, as Xen would set them. */
class EventScannerTest {
    private static final SharedInfoLayout SHARED = SharedInfoLayout.X86_64;
    private static final VcpuInfoLayout VCPU = VcpuInfoLayout.X86_64;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment shared = arena.allocate(4096, 4096);
    private final MemorySegment info = arena.allocate(VcpuInfoLayout.SIZE, VcpuInfoLayout.SIZE);
    private final EventScanner scanner = new EventScanner(shared, info);
    private final List<Integer> order = new ArrayList<>();

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void dispatchesPendingPortsOfAWordInOrderAndClearsTheirBits() {
        bind(3, 5, 7);
        pend(7, 3, 5);
        assertEquals(3, scanner.handleUpcall());
        assertEquals(List.of(3, 5, 7), order);
        for (int port : new int[] {3, 5, 7}) {
            assertFalse(isPending(port), "port " + port + " still pending");
        }
        assertEquals(0, word(info, VCPU.pendingSel()), "pending_sel taken");
        assertEquals(0, info.get(ValueLayout.JAVA_BYTE, VCPU.upcallPending()), "upcall_pending cleared");
    }

    @Test
    void skipsMaskedPortsAndLeavesThemPending() {
        bind(3, 5, 7);
        mask(5);
        pend(3, 5, 7);
        scanner.handleUpcall();
        assertEquals(List.of(3, 7), order);
        assertTrue(isPending(5), "a masked port stays pending for its unmask");
    }

    @Test
    void skipsPortsBoundToOtherVcpus() {
        bind(3);
        pend(3, 4); // port 4 belongs to another vCPU (not in this one's cpu_evtchn_mask)
        scanner.handleUpcall();
        assertEquals(List.of(3), order);
        assertTrue(isPending(4));
    }

    @Test
    void nothingPendingIsASpuriousUpcall() {
        bind(3);
        info.set(ValueLayout.JAVA_BYTE, VCPU.upcallPending(), (byte) 1);
        assertEquals(0, scanner.handleUpcall());
        assertEquals(0, info.get(ValueLayout.JAVA_BYTE, VCPU.upcallPending()));
    }

    @Test
    void nextScanStartsAfterTheLastPortHandled() {
        bind(3, 5, 7);
        pend(5);
        scanner.handleUpcall();
        assertEquals(0, scanner.currentWord());
        assertEquals(6, scanner.currentBit());
        order.clear();
        pend(3, 5, 7);
        scanner.handleUpcall();
        assertEquals(List.of(7, 3, 5), order, "round-robin: from bit 6 up, then wrap");
    }

    @Test
    void roundRobinAcrossWords() {
        int a = 1;
        int b = 64 + 2;
        int c = 128 + 3;
        int d = 128 + 4;
        bind(a, b, c, d);
        pend(a, b, c);
        scanner.handleUpcall();
        assertEquals(List.of(a, b, c), order);
        assertEquals(2, scanner.currentWord());
        assertEquals(4, scanner.currentBit());

        order.clear();
        pend(a, b, c, d);
        scanner.handleUpcall();
        // Word 2 from bit 4 first, then words 0 and 1, then word 2's bits below 4 last.
        assertEquals(List.of(d, a, b, c), order);
    }

    @Test
    void theLastPortOfAWordMovesTheStartToTheNextWord() {
        int last = 63;
        int next = 64;
        bind(1, last, next);
        pend(last);
        scanner.handleUpcall();
        assertEquals(1, scanner.currentWord());
        assertEquals(0, scanner.currentBit());
        order.clear();
        pend(1, next);
        scanner.handleUpcall();
        assertEquals(List.of(next, 1), order);
    }

    @Test
    void wrapsFromTheLastWordToTheFirst() {
        int top = 4095;
        bind(top, 2);
        pend(top);
        scanner.handleUpcall();
        assertEquals(0, scanner.currentWord(), "after port 4095 the scan starts at port 0");
        assertEquals(0, scanner.currentBit());
        order.clear();
        pend(2, top);
        scanner.handleUpcall();
        assertEquals(List.of(2, top), order);
    }

    @Test
    void aBusyPortDoesNotStarveTheOthers() {
        int[] busyLeft = {5};
        bind(1, 2, 3, 9, 64 * 9 + 7);
        scanner.bind(10, port -> {
            order.add(port);
            if (--busyLeft[0] > 0) {
                pend(10); // the port is raised again while its handler runs
            }
        });
        pend(9);
        scanner.handleUpcall(); // the next scan starts at port 10
        order.clear();
        pend(10, 1, 2, 3, 64 * 9 + 7);
        scanner.handleUpcall();
        assertEquals(List.of(10, 64 * 9 + 7, 1, 2, 3), order.subList(0, 5),
                "after port 10 the scan goes on upwards and wraps before port 10 comes again");
        assertEquals(5, order.stream().filter(p -> p == 10).count(), "each re-raise handled");
    }

    @Test
    void anEventDuringTheHandlerIsHandledInTheSameUpcall() {
        scanner.bind(3, port -> {
            order.add(port);
            if (order.size() == 1) {
                pend(4);
            }
        });
        bind(4);
        pend(3);
        assertEquals(2, scanner.handleUpcall());
        assertEquals(List.of(3, 4), order);
    }

    @Test
    void refusesAPortOutOfRangeOrBoundTwice() {
        assertThrows(GuestPanic.class, () -> scanner.bind(0, p -> { }));
        assertThrows(GuestPanic.class, () -> scanner.bind(4096, p -> { }));
        scanner.bind(9, p -> { });
        assertThrows(GuestPanic.class, () -> scanner.bind(9, p -> { }));
    }

    private void bind(int... ports) {
        for (int port : ports) {
            scanner.bind(port, order::add);
        }
    }

    /** What Xen's set_pending does for an unmasked port: pending bit, pending_sel bit, upcall_pending. */
    private void pend(int... ports) {
        for (int port : ports) {
            orWord(shared, SHARED.evtchnPending() + 8L * (port / 64), 1L << port);
            orWord(info, VCPU.pendingSel(), 1L << (port / 64));
        }
        info.set(ValueLayout.JAVA_BYTE, VCPU.upcallPending(), (byte) 1);
    }

    private void mask(int port) {
        orWord(shared, SHARED.evtchnMask() + 8L * (port / 64), 1L << port);
    }

    private boolean isPending(int port) {
        return (word(shared, SHARED.evtchnPending() + 8L * (port / 64)) & 1L << port) != 0;
    }

    private static long word(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_LONG, offset);
    }

    private static void orWord(MemorySegment s, long offset, long bits) {
        s.set(ValueLayout.JAVA_LONG, offset, word(s, offset) | bits);
    }
}
