package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.impl.console.TokenBucket;

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

    /** A call from vCPU 5 of dom 9 with a sub-op, to find them in the log line. */
    private record Named(int number) implements HypercallContext {
        @Override
        public int domid() {
            return 9;
        }

        @Override
        public int vcpu() {
            return 5;
        }

        @Override
        public boolean longMode() {
            return true;
        }

        @Override
        public int cpl() {
            return 0;
        }

        @Override
        public long arg(int index) {
            return index == 0 ? 0xa : 0;
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return null;
        }
    }

    /** A dispatcher whose failure lines go to {@code lines}, rate limited on a clock the test moves. */
    private static HypercallDispatcher logging(List<String> lines, AtomicLong nanos) {
        TokenBucket bucket = new TokenBucket(HandlerFailures.RATE, HandlerFailures.BURST, nanos::get);
        return new HypercallDispatcher((domid, vcpu) -> true,
                new HandlerFailures((line, cause) -> lines.add(line), bucket));
    }

    @Test
    void aHandlerThatThrowsGivesTheGuestEinvalAndTheHostOneLine() {
        List<String> lines = new ArrayList<>();
        HypercallDispatcher d = logging(lines, new AtomicLong());
        AtomicInteger calls = new AtomicInteger();
        d.register(32, call -> {
            calls.incrementAndGet();
            throw new IllegalStateException("port 4201 is in use above the new limit 4096");
        });
        d.register(17, call -> 7);
        assertEquals(-Errno.EINVAL, d.hypercall(new Named(32)));
        assertEquals(1, lines.size(), "one line");
        String line = lines.get(0);
        for (String part : new String[] {"dom9", "vcpu 5", "hypercall 32", "arg0 0xa", "java.lang.IllegalStateException",
                "port 4201 is in use above the new limit 4096", "-EINVAL"}) {
            assertTrue(line.contains(part), "'" + part + "' in: " + line);
        }
        assertFalse(line.contains("\n"), "one line, no stack trace: " + line);
        assertEquals(-Errno.EINVAL, d.hypercall(new Named(32)), "the handler is called again, and refused again");
        assertEquals(2, calls.get());
        assertEquals(7, d.hypercall(new Named(17)), "the other families carry on");
    }

    @Test
    void anAccessOutsideASegmentAnswersEfault() {
        List<String> lines = new ArrayList<>();
        HypercallDispatcher d = logging(lines, new AtomicLong());
        d.register(24, call -> MemorySegment.ofArray(new byte[8]).get(ValueLayout.JAVA_LONG, 4));
        assertEquals(-Errno.EFAULT, d.hypercall(new Named(24)));
        assertTrue(lines.get(0).contains("IndexOutOfBoundsException") && lines.get(0).contains("-EFAULT"), lines.get(0));
    }

    @Test
    void aGuestCallingItInALoopGetsItsLinesRateLimitedAndCounted() {
        List<String> lines = new ArrayList<>();
        AtomicLong nanos = new AtomicLong();
        HypercallDispatcher d = logging(lines, nanos);
        d.register(29, call -> {
            throw new NullPointerException();
        });
        for (int i = 0; i < 1000; i++) {
            assertEquals(-Errno.EINVAL, d.hypercall(new Named(29)), "call " + i);
        }
        assertEquals(HandlerFailures.BURST, lines.size(), "a burst, then nothing while the clock stands");
        nanos.addAndGet(1_000_000_000L);
        d.hypercall(new Named(29));
        String last = lines.get(lines.size() - 1);
        assertTrue(last.contains("(" + (1000 - HandlerFailures.BURST) + " such lines dropped"), last);
    }

    @Test
    void numbersOutOfRangeAreRefusedAtRegistration() {
        for (int nr : new int[] {-1, HypercallDispatcher.MAX_HYPERCALLS}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dispatcher.register(nr, call -> 0));
            assertTrue(e.getMessage().contains(Integer.toString(nr)), e.getMessage());
        }
    }
}
