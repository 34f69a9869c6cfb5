package kvm.provider.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.TimerProvider.Timer;

/** The TimerProvider contract, for both providers. No tight timing assertions: the machine is shared. */
class TimerProviderTest {
    private static final long MS = 1_000_000L;
    /** Generous: a missed wake-up shows as seconds, scheduling noise as a few ms. */
    private static final long ON_TIME_NANOS = 100 * MS;
    private static final long WAIT_NANOS = 10_000 * MS;

    enum Kind {
        PORTABLE(PortableTimerProvider.THREAD_NAME, PortableTimerProvider::new),
        PRECISE(PreciseTimerProvider.THREAD_NAME, PreciseTimerProvider::new);

        final String threadName;
        private final Supplier<ThreadedTimerProvider> factory;

        Kind(String threadName, Supplier<ThreadedTimerProvider> factory) {
            this.threadName = threadName;
            this.factory = factory;
        }

        ThreadedTimerProvider open() {
            if (this == PRECISE) {
                assumeTrue(PreciseTimerProvider.isSupported(),
                        () -> "PreciseTimerProvider unsupported here: " + PreciseTimerProvider.unsupportedReason());
            }
            return factory.get();
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void firesAfterItsDeadlineNeverBefore(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            int n = 20;
            AtomicLongArrayRecorder fired = new AtomicLongArrayRecorder(n);
            long base = p.now();
            long[] deadlines = new long[n];
            for (int i = 0; i < n; i++) {
                deadlines[i] = base + (i + 1) * MS / 2;
                int k = i;
                p.schedule(deadlines[i], () -> fired.set(k, p.now()));
            }
            waitUntil(() -> fired.count() == n);
            for (int i = 0; i < n; i++) {
                long at = fired.get(i);
                assertTrue(at >= deadlines[i], "timer " + i + " fired " + (deadlines[i] - at) + " ns early");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aPassedDeadlineFiresPromptlyOnTheTimerThread(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            AtomicLong at = new AtomicLong();
            long scheduled = p.now();
            p.schedule(scheduled - 1_000 * MS, () -> {
                at.set(p.now());
                ranOn.set(Thread.currentThread());
            });
            waitUntil(() -> ranOn.get() != null);
            assertNotSame(Thread.currentThread(), ranOn.get(), "never inline in the caller");
            assertEquals(kind.threadName, ranOn.get().getName());
            assertTrue(at.get() - scheduled < ON_TIME_NANOS, "fired " + (at.get() - scheduled) / MS + " ms late");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void timersFireInDeadlineOrderAndEqualDeadlinesInScheduleOrder(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            List<Integer> offsets = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                offsets.add(i);
            }
            Collections.shuffle(offsets, new Random(42));
            ConcurrentLinkedQueue<String> order = new ConcurrentLinkedQueue<>();
            long base = p.now() + 5 * MS;
            for (int i : offsets) {
                p.schedule(base + i * MS, () -> order.add("t" + i));
            }
            long same = base + 20 * MS;
            for (String s : List.of("a", "b", "c")) {
                p.schedule(same, () -> order.add(s));
            }
            waitUntil(() -> order.size() == 13);
            assertEquals(List.of("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "a", "b", "c"),
                    List.copyOf(order));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void cancelBeforeTheFirePreventsItAndAfterItReturnsFalse(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            AtomicBoolean cancelledRan = new AtomicBoolean();
            Timer t = p.schedule(p.now() + 20 * MS, () -> cancelledRan.set(true));
            assertEquals(1, p.armed());
            assertTrue(t.cancel(), "cancel before the fire");
            assertFalse(t.cancel(), "a second cancel");
            assertEquals(0, p.armed());

            CountDownLatch later = new CountDownLatch(1);
            Timer sentinel = p.schedule(p.now() + 40 * MS, later::countDown);
            await(later);
            assertFalse(cancelledRan.get(), "a cancelled timer fired");
            assertFalse(sentinel.cancel(), "cancel after the fire");
            assertEquals(0, p.armed());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void cancelRacingTheFireExactlyOneWins(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            Random random = new Random(7);
            int rounds = 2_000;
            int cancelWins = 0;
            for (int r = 0; r < rounds; r++) {
                AtomicInteger runs = new AtomicInteger();
                long deadline = p.now() + random.nextInt(30_000); // 0-30 µs ahead: the thread is about to fire it
                Timer t = p.schedule(deadline, runs::incrementAndGet);
                long spin = random.nextInt(50_000);
                long until = System.nanoTime() + spin;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                boolean cancelled = t.cancel();
                // Fires come in deadline order: once this one has run, the raced timer fired or never will.
                CountDownLatch sentinel = new CountDownLatch(1);
                p.schedule(deadline, sentinel::countDown);
                await(sentinel);
                int fired = runs.get();
                if (cancelled) {
                    cancelWins++;
                    assertEquals(0, fired, "round " + r + ": cancel() returned true but the action ran");
                } else {
                    assertEquals(1, fired, "round " + r + ": cancel() returned false but the action did not run once");
                }
            }
            assertEquals(0, p.armed());
            System.out.printf("%s cancel/fire race: cancel won %d of %d rounds%n", kind, cancelWins, rounds);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anEarlierTimerWakesTheThreadSleepingForALaterOne(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            long far = p.now() + 60_000 * MS;
            p.schedule(far, () -> { });
            waitUntil(() -> p.sleepingUntil() == far); // the thread has gone to sleep for the minute-away timer
            sleepMillis(5); // and is well inside its park or epoll_wait
            AtomicLong at = new AtomicLong();
            long deadline = p.now() + 10 * MS;
            p.schedule(deadline, () -> at.set(p.now()));
            waitUntil(() -> at.get() != 0);
            long late = at.get() - deadline;
            assertTrue(late >= 0 && late < ON_TIME_NANOS, "fired " + late / 1000 + " µs after its deadline");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void tenThousandTimersFireExactlyOnce(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            int n = 10_000;
            AtomicIntegerArray runs = new AtomicIntegerArray(n);
            AtomicInteger total = new AtomicInteger();
            Random random = new Random(3);
            long base = p.now();
            long last = base;
            for (int i = 0; i < n; i++) {
                long deadline = base + random.nextInt(50) * MS / 2; // some in the past by the time they are queued
                last = Math.max(last, deadline);
                int k = i;
                p.schedule(deadline, () -> {
                    runs.incrementAndGet(k);
                    total.incrementAndGet();
                });
            }
            waitUntil(() -> total.get() == n);
            CountDownLatch sentinel = new CountDownLatch(1);
            p.schedule(last + MS, sentinel::countDown);
            await(sentinel);
            for (int i = 0; i < n; i++) {
                assertEquals(1, runs.get(i), "timer " + i);
            }
            assertEquals(n, total.get());
            assertEquals(0, p.armed());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void aThrowingActionIsCountedAndLaterTimersStillFire(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            CountDownLatch later = new CountDownLatch(2);
            long now = p.now();
            p.schedule(now, () -> {
                throw new IllegalStateException("thrown on purpose by the test");
            });
            p.schedule(now + MS, () -> {
                throw new AssertionError("an Error, thrown on purpose by the test");
            });
            p.schedule(now + 2 * MS, later::countDown);
            p.schedule(now + 3 * MS, () -> Thread.currentThread().interrupt()); // must not make the thread spin
            p.schedule(now + 30 * MS, later::countDown);
            await(later);
            assertEquals(2, p.failedActions());
            assertTrue(p.thread().isAlive());
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theThreadSleepsWhileNothingIsDue(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            CountDownLatch fired = new CountDownLatch(1);
            p.schedule(p.now() + MS, fired::countDown);
            await(fired);
            p.schedule(p.now() + 60_000 * MS, () -> { });
            long before = p.sleeps();
            sleepMillis(100);
            assertTrue(p.sleeps() - before <= 3, (p.sleeps() - before) + " wake-ups in 100 ms with nothing due");
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void closeStopsTheThreadFiresNothingAndRefusesSchedule(Kind kind) {
        ThreadedTimerProvider p = kind.open();
        AtomicBoolean ran = new AtomicBoolean();
        Timer armed = p.schedule(p.now() + 50 * MS, () -> ran.set(true));
        p.close();
        assertFalse(p.thread().isAlive(), "timer thread still running after close()");
        assertEquals(0, p.armed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.schedule(p.now(), () -> { }));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        sleepMillis(80);
        assertFalse(ran.get(), "a timer fired after close()");
        assertTrue(armed.cancel(), "a timer that was armed at close() never fired: cancel() says so");
        p.close(); // idempotent
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anActionMayCloseItsOwnProvider(Kind kind) {
        ThreadedTimerProvider p = kind.open();
        AtomicBoolean ranAfter = new AtomicBoolean();
        // Far enough that a late timer thread never takes both into one batch (a batch already
        // taken still runs, by design: TimerQueue's "Closing").
        p.schedule(p.now() + 5_000 * MS, () -> ranAfter.set(true));
        p.schedule(p.now(), p::close);
        waitUntil(() -> !p.thread().isAlive());
        assertFalse(ranAfter.get());
        assertThrows(IllegalStateException.class, () -> p.schedule(0, () -> { }));
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void noThreadOrFileDescriptorLeaksAfterClose(Kind kind) {
        long fdsBefore = openFds();
        for (int i = 0; i < 50; i++) {
            try (ThreadedTimerProvider p = kind.open()) {
                CountDownLatch fired = new CountDownLatch(1);
                p.schedule(p.now(), fired::countDown);
                p.schedule(p.now() + 60_000 * MS, () -> { });
                await(fired);
            }
        }
        long alive = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(kind.threadName)).count();
        assertEquals(0, alive, "timer threads alive after close()");
        if (fdsBefore >= 0) {
            long fdsAfter = openFds();
            assertTrue(fdsAfter - fdsBefore < 10, "file descriptors grew from " + fdsBefore + " to " + fdsAfter);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void scheduleRejectsANullAction(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            assertThrows(NullPointerException.class, () -> p.schedule(p.now(), null));
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void theClockIsMonotonic(Kind kind) {
        try (ThreadedTimerProvider p = kind.open()) {
            long prev = p.now();
            for (int i = 0; i < 100_000; i++) {
                long now = p.now();
                assertTrue(now >= prev);
                prev = now;
            }
        }
    }

    // ---- helpers ----

    /** Records one time per slot; counts the slots set. */
    private static final class AtomicLongArrayRecorder {
        private final java.util.concurrent.atomic.AtomicLongArray at;
        private final AtomicInteger count = new AtomicInteger();

        AtomicLongArrayRecorder(int n) {
            at = new java.util.concurrent.atomic.AtomicLongArray(n);
        }

        void set(int i, long value) {
            at.set(i, value);
            count.incrementAndGet();
        }

        long get(int i) {
            return at.get(i);
        }

        int count() {
            return count.get();
        }
    }

    private static long openFds() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? -1 : fds.length;
    }

    private static void waitUntil(BooleanSupplier condition) {
        long end = System.nanoTime() + WAIT_NANOS;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("condition not reached within " + WAIT_NANOS / 1_000_000_000L + " s");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(WAIT_NANOS, TimeUnit.NANOSECONDS), "not fired within 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
    }
}
