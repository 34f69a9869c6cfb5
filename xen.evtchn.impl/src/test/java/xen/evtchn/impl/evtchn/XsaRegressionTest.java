package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/**
 * Xen's event-channel security advisories, as behaviour a guest can see: each test does what the
 * advisory's attacker did and checks the answers and the guest's bits (read from guest RAM).
 */
class XsaRegressionTest extends EvtchnTestBase {
    private static final int SELF = EvtchnFixture.SELF;
    private static final int ENOSPC = EvtchnFixture.ENOSPC;
    private static final int EINVAL = EvtchnFixture.EINVAL;

    /** Allocates unbound ports until the table refuses; returns the ports it got. */
    private static List<Integer> exhaust(Guest g) {
        List<Integer> got = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            int port = g.d.allocUnbound(SELF, SELF);
            if (port < 0) {
                assertEquals(ENOSPC, port, "a full table answers -ENOSPC");
                return got;
            }
            got.add(port);
        }
        throw new AssertionError("10,000 ports allocated: there is no limit");
    }

    /** XSA-317: allocation stops at the ABI's limit with -ENOSPC, again and again, nothing beyond. */
    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void xsa317AllocationEndsAtTheLimit(GuestWidth width) {
        Guest g = guest(width);
        int limit = EvtchnFixture.limitOf(width);
        List<Integer> got = exhaust(g);
        assertEquals(limit - 1, got.size(), "every port but the reserved port 0");
        assertEquals(limit - 1, (int) got.getLast(), "the last one is limit - 1");
        for (int i = 0; i < 100; i++) {
            assertEquals(ENOSPC, g.d.allocUnbound(SELF, SELF));
        }
        assertEquals(EINVAL, g.d.status(SELF, limit).error(), "the port at the limit never became valid");
        assertEquals(limit, g.d.validPorts());
    }

    /** XSA-342: a 32-bit guest never gets a port of 1024 or more, whatever it binds. */
    @Test
    void xsa342AThirtyTwoBitGuestStaysBelow1024() {
        Guest g = guest(GuestWidth.X86_32);
        int ipi;
        List<Integer> got = new ArrayList<>();
        while ((ipi = g.d.bindIpi(0)) > 0) {
            got.add(ipi);
        }
        assertEquals(ENOSPC, ipi);
        assertTrue(got.stream().allMatch(p -> p < 1024), "no port beyond the 32-bit 2-level limit");
        assertEquals(ENOSPC, g.d.bindVirq(Virq.TIMER.number(), 1));
        assertEquals(1024, g.d.validPorts());
    }

    /**
     * XSA-343: EVTCHNOP_reset on one vCPU while another binds and sends. Each reset answers 0, or
     * -EAGAIN when a bind got behind its sweep (Xen's answer since then). Afterwards no port stays
     * half-closed: none in use, no pending bit left for a closed port, and allocation starts again
     * at port 1.
     */
    @Test
    void xsa343ResetRacingBindAndSend() throws Exception {
        Guest g = guest(GuestWidth.X86_64);
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread binder = Thread.ofPlatform().start(() -> {
            started.countDown();
            try {
                while (!stop.get()) {
                    int p = g.d.bindIpi(1);
                    if (p > 0) {
                        g.d.send(p);
                        int loop = g.d.allocUnbound(SELF, SELF);
                        if (loop > 0) {
                            int peer = g.d.bindInterdomain(SELF, loop);
                            if (peer > 0) {
                                g.d.send(peer);
                            }
                        }
                    }
                }
            } catch (Throwable t) {
                errors.add(t);
            }
        });
        started.await();
        for (int i = 0; i < 2000; i++) {
            int rc = g.d.reset(SELF);
            assertTrue(rc == 0 || rc == -Errno.EAGAIN, "reset " + i + " answered " + rc);
        }
        stop.set(true);
        binder.join();
        assertEquals(List.of(), List.copyOf(errors));
        assertEquals(0, g.d.reset(SELF));
        for (int port = 1; port < g.d.validPorts(); port++) {
            assertEquals(EvtchnStat.CLOSED, g.d.status(SELF, port).status(), "port " + port + " after the last reset");
        }
        assertFalse(g.anyPending(), "no pending bit outlives its port");
        assertEquals(1, g.d.bindIpi(0), "allocation starts again at the lowest port");
    }

    /**
     * XSA-344: resetting a full table is one pass over it (Xen's reset had no preemption and could
     * run for seconds): it allocates a small constant per port closed (the close's lock stamps),
     * and no more on the fifth reset of a full table than on the first.
     */
    @Test
    void xsa344ResetOfAFullTableIsBounded() {
        Guest g = guest(GuestWidth.X86_64);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long first = -1;
        for (int round = 0; round < 5; round++) {
            assertEquals(4095, exhaust(g).size(), "the whole table is free again after each reset");
            long before = threads.getThreadAllocatedBytes(id);
            assertEquals(0, g.d.reset(SELF));
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            assertTrue(allocated < 64 * 4095, "a reset of 4095 ports allocated " + allocated + " bytes");
            first = first < 0 ? allocated : first;
            assertTrue(allocated <= first + 4096, "round " + round + ": " + allocated + " bytes, the first " + first);
        }
    }

    /** XSA-221: SCHEDOP_poll on ports that were never allocated (or never valid) fails cleanly. */
    @Test
    void xsa221PollOnPortsNeverAllocated() {
        Guest g = guest(GuestWidth.X86_64);
        int valid = g.d.validPorts();
        assertEquals(EINVAL, g.d.poll(0, new int[] {valid}, Long.MAX_VALUE, true), "just beyond the valid ports");
        assertEquals(EINVAL, g.d.poll(0, new int[] {4095}, Long.MAX_VALUE, true), "at the limit, never valid");
        assertEquals(EINVAL, g.d.poll(0, new int[] {-1}, Long.MAX_VALUE, true), "a u32 of 0xffffffff");
        assertEquals(EINVAL, g.d.poll(0, new int[] {1, 1 << 30}, Long.MAX_VALUE, true), "one bad port spoils the list");
    }

    /** XSA-496: with the table full, bind_virq answers -ENOSPC and leaves no trace. */
    @Test
    void xsa496BindVirqOnAFullTableHasNoSideEffect() {
        Guest g = guest(GuestWidth.X86_64);
        List<Integer> got = exhaust(g);
        int timer = Virq.TIMER.number();
        assertEquals(ENOSPC, g.d.bindVirq(timer, 0));
        assertFalse(g.d.raiseVirq(timer, 0), "VIRQ_TIMER on vCPU 0 is bound to nothing");
        assertFalse(g.anyPending());
        int freed = got.get(100);
        assertEquals(0, g.d.close(freed));
        assertEquals(freed, g.d.bindVirq(timer, 0), "bound now, to the one free port, as if never refused");
        assertTrue(g.d.raiseVirq(timer, 0));
        assertTrue(g.pending(freed));
    }

    /** XSA-338: a port that was valid once stays valid after EVTCHNOP_reset (closed, not -EINVAL). */
    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void xsa338PortsStayValidAfterReset(GuestWidth width) {
        Guest g = guest(width);
        List<Integer> got = exhaust(g);
        int high = got.getLast();
        assertEquals(0, g.d.reset(SELF));
        assertEquals(EvtchnStat.CLOSED, g.d.status(SELF, high).status());
        assertEquals(0, g.d.status(SELF, high).error(), "still valid");
        assertEquals(EvtchnFixture.limitOf(width), g.d.validPorts(), "reset never shrinks the valid ports");
    }
}
