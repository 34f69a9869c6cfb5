package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/** SCHEDOP_block and SCHEDOP_poll as GuestEventChannels waits them: what wakes a waiting vCPU, and what does not. */
class EventWaitsTest extends EvtchnTestBase {
    private static final long NONE = Long.MAX_VALUE;

    /** Runs {@code wait} on its own thread (the vCPU) and returns when it has started waiting. */
    private static CompletableFuture<Integer> waiting(java.util.function.IntSupplier wait) throws InterruptedException {
        CompletableFuture<Integer> done = CompletableFuture.supplyAsync(wait::getAsInt, r -> Thread.ofPlatform().start(r));
        Thread.sleep(50); // let it park; a wake-up before it parks must not be lost either
        return done;
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void pollOnAMaskedPortReturnsWhenItBecomesPending(GuestWidth w) throws Exception {
        Guest g = guest(w);
        int port = g.d.bindIpi(1);
        g.mask(port);
        CompletableFuture<Integer> poll = waiting(() -> g.d.poll(1, new int[] {port}, NONE, true));
        assertFalse(poll.isDone(), "nothing pending yet");
        g.d.send(port);
        assertEquals(0, poll.get(5, TimeUnit.SECONDS));
        assertEquals(0, g.upcalls(1), "a masked port wakes the poller without an upcall");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void pollOnAPortAlreadyPendingReturnsAtOnce(GuestWidth w) {
        Guest g = guest(w);
        int port = g.d.bindIpi(0);
        g.mask(port);
        g.d.send(port);
        assertEquals(0, g.d.poll(0, new int[] {port}, NONE, true));
    }

    @Test
    void pollTimesOutAtItsDeadline() {
        Guest g = guest(GuestWidth.X86_64);
        int port = g.d.bindIpi(0);
        long start = System.nanoTime();
        assertEquals(0, g.d.poll(0, new int[] {port}, start + 30_000_000, true));
        assertTrue(System.nanoTime() - start >= 30_000_000, "did not return before the deadline");
    }

    @Test
    void anUpcallAlreadyPendingEndsAPollOnlyIfTheVcpuCouldTakeIt() throws Exception {
        Guest g = guest(GuestWidth.X86_64);
        g.d.send(g.d.bindIpi(0)); // vCPU 0 has an upcall pending
        int polled = g.d.bindIpi(0);
        g.mask(polled);
        assertEquals(0, g.d.poll(0, new int[] {polled}, NONE, true), "IF=1: the pending upcall ends it at once");
        long start = System.nanoTime();
        assertEquals(0, g.d.poll(0, new int[] {polled}, start + 30_000_000, false));
        assertTrue(System.nanoTime() - start >= 30_000_000, "IF=0: the poll waited for its port or deadline");
        CompletableFuture<Integer> poll = waiting(() -> g.d.poll(0, new int[] {polled}, NONE, false));
        assertFalse(poll.isDone(), "IF=0 and the upcall already pending: still polling");
        g.d.send(polled);
        assertEquals(0, poll.get(5, TimeUnit.SECONDS), "its port ends it");
    }

    @Test
    void pollOnPortsNeverValidAnswersEinvalWithoutWaiting() {
        Guest g = guest(GuestWidth.X86_64);
        int port = g.d.bindIpi(0);
        assertEquals(-22, g.d.poll(0, new int[] {port, 4000}, NONE, true), "port 4000 was never allocated (XSA-221)");
        assertEquals(-22, g.d.poll(0, new int[] {-1}, NONE, true));
    }

    @Test
    void aPortSentThatIsNotPolledDoesNotWakeAPoller() throws Exception {
        Guest g = guest(GuestWidth.X86_64);
        int polled = g.d.bindIpi(1);
        int other = g.d.bindIpi(0);
        g.mask(other);
        CompletableFuture<Integer> poll = waiting(() -> g.d.poll(1, new int[] {polled}, NONE, true));
        g.d.send(other);
        Thread.sleep(50);
        assertFalse(poll.isDone(), "a masked event for another port leaves it polling");
        g.d.send(polled);
        assertEquals(0, poll.get(5, TimeUnit.SECONDS));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void blockReturnsWhenAnEventIsDeliveredToThatVcpu(GuestWidth w) throws Exception {
        Guest g = guest(w);
        int mine = g.d.bindIpi(1);
        int others = g.d.bindIpi(0);
        CompletableFuture<Integer> block = waiting(() -> {
            g.d.block(1, NONE);
            return 0;
        });
        g.d.send(others);
        Thread.sleep(50);
        assertFalse(block.isDone(), "an event for vCPU 0 does not wake vCPU 1");
        g.d.send(mine);
        assertEquals(0, block.get(5, TimeUnit.SECONDS));
    }

    @Test
    void blockWithAnUpcallAlreadyPendingReturnsAtOnceAndWakeWaitersEndsABlock() throws Exception {
        Guest g = guest(GuestWidth.X86_64);
        g.d.send(g.d.bindIpi(0));
        g.d.block(0, NONE); // returns: upcall_pending is set
        CompletableFuture<Integer> block = waiting(() -> {
            g.d.block(1, NONE);
            return 0;
        });
        g.d.wakeWaiters();
        assertEquals(0, block.get(5, TimeUnit.SECONDS));
    }
}
