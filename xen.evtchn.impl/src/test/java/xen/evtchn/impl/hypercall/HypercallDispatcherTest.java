package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.Errno;

class HypercallDispatcherTest {
    private final HypercallDispatcher dispatcher = new HypercallDispatcher();

    /** A call with just a number and a privilege level: the dispatcher looks at nothing else. */
    private record Call(int number, int cpl) implements HypercallContext {
        @Override
        public int domid() {
            return 1;
        }

        @Override
        public int vcpu() {
            return 0;
        }

        @Override
        public boolean longMode() {
            return true;
        }

        @Override
        public long arg(int index) {
            return 0;
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return null;
        }
    }

    @Test
    void aRegisteredHandlerAnswersItsNumberOnly() {
        dispatcher.register(17, call -> 0x4_0011);
        assertEquals(0x4_0011, dispatcher.hypercall(new Call(17, 0)));
        assertEquals(-Errno.ENOSYS, dispatcher.hypercall(new Call(18, 0)));
    }

    @Test
    void unknownAndOutOfRangeNumbersAnswerEnosys() {
        for (int nr : new int[] {0, 32, 63, 64, 1000, -1}) {
            assertEquals(-Errno.ENOSYS, dispatcher.hypercall(new Call(nr, 0)), "hypercall " + nr);
        }
    }

    @Test
    void aCallFromAnyRingButZeroAnswersEpermWithoutReachingTheHandler() {
        AtomicInteger reached = new AtomicInteger();
        dispatcher.register(29, call -> reached.incrementAndGet());
        for (int cpl = 1; cpl <= 3; cpl++) {
            assertEquals(-Errno.EPERM, dispatcher.hypercall(new Call(29, cpl)), "CPL " + cpl);
        }
        assertEquals(-Errno.EPERM, dispatcher.hypercall(new Call(99, 3)), "EPERM comes before the number check");
        assertEquals(0, reached.get());
    }

    @Test
    void aNumberHoldsOneHandlerAndOnlyItsOwnerRemovesIt() {
        HypercallHandler first = call -> 1;
        HypercallHandler second = call -> 2;
        dispatcher.register(34, first);
        IllegalStateException taken = assertThrows(IllegalStateException.class, () -> dispatcher.register(34, second));
        assertTrue(taken.getMessage().contains("34"), taken.getMessage());
        assertFalse(dispatcher.unregister(34, second), "not the owner");
        assertSame(first, dispatcher.handler(34));
        assertTrue(dispatcher.unregister(34, first));
        assertNull(dispatcher.handler(34));
        assertEquals(-Errno.ENOSYS, dispatcher.hypercall(new Call(34, 0)), "gone with its bundle");
        dispatcher.register(34, second);
        assertEquals(2, dispatcher.hypercall(new Call(34, 0)));
    }

    @Test
    void numbersOutOfRangeAreRefusedAtRegistration() {
        for (int nr : new int[] {-1, HypercallDispatcher.MAX_HYPERCALLS}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dispatcher.register(nr, call -> 0));
            assertTrue(e.getMessage().contains(Integer.toString(nr)), e.getMessage());
        }
    }
}
