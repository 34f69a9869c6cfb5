package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.evtchnop.InitControl;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/** The FIFO ABI: its ops and their errors, queues in guest memory, READY and the upcall, and Xen's FIFO advisories. */
class FifoTest extends EvtchnTestBase {
    static final int EINVAL = -Errno.EINVAL;
    static final int ENOENT = -Errno.ENOENT;
    static final int ENOSYS = -Errno.ENOSYS;
    static final int ENOSPC = -Errno.ENOSPC;
    static final int EOPNOTSUPP = -Errno.EOPNOTSUPP;

    Guest g;
    FifoGuest f;

    void fifo(int pages) {
        g = guest(GuestWidth.X86_64);
        f = new FifoGuest(g.d, g.memory()).start(2, pages);
    }

    @Test
    void initControlChecksInXensOrderAndAFailedFirstCallChangesNothing() {
        g = guest(GuestWidth.X86_64);
        GuestEventChannels d = g.d;
        assertEquals(ENOENT, d.initControl(FifoGuest.CONTROL_GFN, 0, 2));
        assertEquals(EINVAL, d.initControl(FifoGuest.CONTROL_GFN, 4096 - 72 + 8, 0), "no room for 72 bytes");
        assertEquals(EINVAL, d.initControl(FifoGuest.CONTROL_GFN, 4, 0), "not 8-byte aligned");
        assertEquals(EINVAL, d.initControl(-1L, 0, 0), "a frame outside guest RAM");
        // XSA-188: a failed first init_control leaves the domain on 2-level, and expand_array refuses.
        assertFalse(d.isFifo());
        assertEquals(EOPNOTSUPP, d.expandArray(FifoGuest.ARRAY_GFN));
        assertEquals(ENOSYS, d.setPriority(1, 3));
        assertEquals(EINVAL, d.setPriority(5000, 3), "an invalid port first, as Xen");

        assertEquals(0, d.initControl(FifoGuest.CONTROL_GFN, 4096 - 72, 0));
        assertTrue(d.isFifo());
        assertEquals(EINVAL, d.initControl(FifoGuest.CONTROL_GFN, 0, 0), "vCPU 0 has one");
        assertEquals(0, d.initControl(FifoGuest.CONTROL_GFN, 128, 1));
        int port = d.bindIpi(0);
        assertEquals(EINVAL, d.setPriority(port, 16));
        assertEquals(0, d.setPriority(port, 15));
        assertEquals(EINVAL, d.expandArray(-1L), "a frame outside guest RAM");
        for (int p = 0; p < EvtchnFifo.MAX_PAGES; p++) {
            assertEquals(0, d.expandArray(FifoGuest.ARRAY_GFN), "page " + p);
        }
        assertEquals(ENOSPC, d.expandArray(FifoGuest.ARRAY_GFN), "past 128 pages");
    }

    @Test
    void theHypercallWritesLinkBits() {
        g = guest(GuestWidth.X86_64);
        long arg = 0x9000;
        new InitControl(FifoGuest.CONTROL_GFN, 0, 0, 0).write(g.memory().ram().asSlice(arg, 24));
        assertEquals(0, fx.handler.hypercall(EvtchnFixture.evtchnCall(g, EvtchnOp.INIT_CONTROL.number(), arg)));
        assertEquals(EvtchnFifo.LINK_BITS, InitControl.read(g.memory().ram().asSlice(arg, 24)).linkBits());
    }

    @Test
    void eventsQueueByPriorityAndOnlyANewHeadRaisesReadyAndTheUpcall() {
        fifo(1);
        GuestEventChannels d = g.d;
        int a = d.bindIpi(0);
        int b = d.bindIpi(0);
        int c = d.bindIpi(0);
        assertEquals(0, d.setPriority(c, 2));
        long upcalls = g.upcalls(0);
        assertEquals(0, d.send(a));
        assertEquals(a, f.head(0, 7));
        assertEquals(1 << 7, f.ready(0));
        assertEquals(upcalls + 1, g.upcalls(0), "READY newly set: the upcall");
        assertEquals(0, d.send(b));
        assertEquals(b, f.word(a) & EvtchnFifo.LINK_MASK, "b linked behind a");
        assertEquals(0, d.send(c));
        assertEquals(c, f.head(0, 2));
        assertEquals(1 << 7 | 1 << 2, f.ready(0));
        assertEquals(0, d.send(a), "already pending and linked: nothing more");
        assertEquals(List.of(c, a, b), f.consume(0), "priority 2 before 7, and in order within 7");
        assertFalse(f.bit(a, EvtchnFifo.LINKED));
        assertTrue(d.isPending(a) == false && f.ready(0) == 0);
    }

    @Test
    void aMaskedEventIsLinkedAtItsUnmask() {
        fifo(1);
        int p = g.d.bindIpi(1);
        f.mask(p);
        assertEquals(0, g.d.send(p));
        assertTrue(g.d.isPending(p));
        assertFalse(f.bit(p, EvtchnFifo.LINKED));
        assertEquals(0, g.d.unmask(p));
        assertEquals(List.of(p), f.consume(1));
    }

    @Test
    void aClosedPortStillLinkedIsNotReusedUntilTheGuestUnlinksIt() {
        fifo(1);
        int p = g.d.bindIpi(0);
        assertEquals(0, g.d.send(p));
        assertEquals(0, g.d.close(p));
        int other = g.d.bindIpi(0);
        assertNotEquals(p, other, "LINKED: busy");
        assertEquals(List.of(), f.consume(0), "not pending any more (close cleared it); unlinked");
        assertEquals(p, g.d.bindIpi(0), "free again once unlinked");
    }

    @Test
    void xsa107AnEventForAVcpuWithoutAControlBlockIsDropped() {
        g = guest(GuestWidth.X86_64);
        f = new FifoGuest(g.d, g.memory());
        assertEquals(0, g.d.initControl(FifoGuest.CONTROL_GFN, 0, 0));
        f.expand();
        int p = g.d.bindIpi(1);
        long upcalls = g.upcalls(1);
        assertEquals(0, g.d.send(p));
        assertTrue(f.bit(p, EvtchnFifo.PENDING));
        assertFalse(f.bit(p, EvtchnFifo.LINKED));
        assertEquals(upcalls, g.upcalls(1));
        assertNull(g.d.selfCheck());
    }

    @Test
    void eventsRaisedBeforeTheirPageComeWhenExpandArrayBringsIt() {
        fifo(1);
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < 1100; i++) {
            ports.add(g.d.bindIpi(0));
        }
        int beyond = ports.getLast();
        assertTrue(beyond >= EvtchnFifo.WORDS_PER_PAGE);
        assertEquals(0, g.d.send(beyond));
        assertFalse(g.d.isPending(beyond), "no word yet");
        f.expand();
        assertTrue(f.bit(beyond, EvtchnFifo.PENDING));
        assertEquals(List.of(beyond), f.consume(0));
    }

    @Test
    void twoLevelPendingBitsAreCarriedOverByTheFirstInitControl() {
        g = guest(GuestWidth.X86_64);
        int p = g.d.bindIpi(0);
        assertEquals(0, g.d.send(p));
        assertTrue(g.pending(p));
        f = new FifoGuest(g.d, g.memory()).start(2, 0);
        assertFalse(g.d.isPending(p), "no array page yet");
        f.expand();
        assertEquals(List.of(p), f.consume(0));
    }

    @Test
    void anOldTailMovedToAnotherQueueDoesNotCaptureItsOldQueue() {
        fifo(1);
        int a = g.d.bindIpi(0);
        int b = g.d.bindIpi(0);
        assertEquals(0, g.d.send(a));
        assertEquals(List.of(a), f.consume(0), "a consumed: the queue is empty, a still its tail");
        assertEquals(0, g.d.setPriority(a, 3));
        assertEquals(0, g.d.send(a));
        assertEquals(a, f.head(0, 3));
        assertEquals(0, g.d.send(b));
        assertEquals(b, f.head(0, 7), "b starts priority 7's queue again, not behind a in queue 3");
        assertEquals(0, f.word(a) & EvtchnFifo.LINK_MASK);
        assertEquals(List.of(a, b), f.consume(0));

        int c = g.d.allocUnbound(DomId.SELF, DomId.SELF);
        int d1 = g.d.bindInterdomain(DomId.SELF, c);
        assertEquals(0, g.d.send(d1));
        assertEquals(List.of(d1, c), f.consume(0), "the bind raised d1; the send c");
        assertEquals(0, g.d.bindVcpu(c, 1), "moved to vCPU 1 while the old tail of vCPU 0's queue");
        assertEquals(0, g.d.send(d1));
        assertEquals(0, g.d.send(b));
        assertEquals(b, f.head(0, 7));
        assertEquals(List.of(c), f.consume(1));
        assertEquals(List.of(b), f.consume(0));
    }

    /** Found by EventChannelModelTest (jqwik seed -1611358366210838469): Xen keeps a port's last queue across close and bind. */
    @Test
    void anOldTailClosedAndBoundAgainElsewhereDoesNotCaptureItsOldQueue() {
        fifo(1);
        int a = g.d.bindIpi(0);
        int b = g.d.bindIpi(0);
        assertEquals(0, g.d.send(a));
        assertEquals(0, g.d.close(a));
        assertEquals(List.of(), f.consume(0), "a unlinked, not delivered (close cleared it); still the queue's tail");
        assertEquals(a, g.d.bindIpi(1), "a free again, now an IPI of vCPU 1");
        assertEquals(0, g.d.send(a));
        assertEquals(0, g.d.send(b));
        assertEquals(b, f.head(0, 7), "b starts vCPU 0's queue again, not behind a in vCPU 1's");
        assertEquals(0, f.word(a) & EvtchnFifo.LINK_MASK);
        assertEquals(List.of(b), f.consume(0));
        assertEquals(List.of(a), f.consume(1));
    }

    @Test
    void resetReturnsToTwoLevelAndPortsStayValid() {
        fifo(8);
        int last = 0;
        for (int i = 0; i < 5000; i++) {
            last = g.d.bindIpi(0);
        }
        assertEquals(5000, last, "FIFO: beyond 4096");
        assertEquals(0, g.d.reset(DomId.SELF));
        assertFalse(g.d.isFifo());
        assertTrue(g.d.validPorts() > 5000, "valid once, valid still (XSA-338)");
        assertEquals(ENOSYS, g.d.setPriority(1, 3));
        assertEquals(0, g.d.unmask(4500), "no 2-level bits there: nothing is written");
        assertFalse(g.d.isPending(4500));
        int p = g.d.bindIpi(0);
        assertTrue(p < 4096);
        for (int port; (port = g.d.bindIpi(0)) > 0;) {
            assertTrue(port < 4096, "2-level limit again: " + port);
        }
        assertNull(g.d.selfCheck());
    }

    @Test
    void fifoGivesAllOfItsPorts() {
        SoftwareBackend big = fx.backend(5, 1);
        GuestEventChannels d = fx.domains.create(5, GuestWidth.X86_32, big);
        assertEquals(0, d.initControl(FifoGuest.CONTROL_GFN, 0, 0));
        int last = 0;
        for (int port; (port = d.bindIpi(0)) > 0;) {
            last = port;
        }
        assertEquals(EvtchnFifo.NR_CHANNELS - 1, last, "a 32-bit guest too, under FIFO");
        assertEquals(ENOSPC, d.bindIpi(0));
        assertEquals(ENOSPC, d.allocUnbound(DomId.SELF, 0));
    }

    @Test
    void xsa358AndXsa359SendsWhileAnotherVcpuRunsInitControl() throws Exception {
        for (int round = 0; round < 200; round++) {
            EvtchnFixture local = new EvtchnFixture();
            try {
                Guest guest = local.guest(1, GuestWidth.X86_64, 2);
                int p = guest.d.bindIpi(1);
                CountDownLatch go = new CountDownLatch(1);
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread sender = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 50; i++) {
                            guest.d.send(p);
                        }
                    } catch (Throwable t) {
                        failed.set(t);
                    }
                });
                sender.start();
                go.countDown();
                FifoGuest fg = new FifoGuest(guest.d, guest.memory()).start(2, 1);
                sender.join();
                assertNull(failed.get());
                assertEquals(List.of(p), fg.consume(1), "round " + round + ": the event, once, wherever it was raised");
                assertNull(guest.d.selfCheck());
            } finally {
                local.close();
            }
        }
    }

    @Test
    void xsa505ExpandArrayRacingResetLeavesAConsistentDomain() throws Exception {
        for (int round = 0; round < 100; round++) {
            EvtchnFixture local = new EvtchnFixture();
            try {
                Guest guest = local.guest(1, GuestWidth.X86_64, 2);
                new FifoGuest(guest.d, guest.memory()).start(1, 1);
                for (int i = 0; i < 100; i++) {
                    guest.d.bindIpi(0);
                }
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread expander = new Thread(() -> {
                    try {
                        for (int i = 0; i < 20; i++) {
                            int rc = guest.d.expandArray(FifoGuest.ARRAY_GFN + 1 + i);
                            if (rc != 0 && rc != EOPNOTSUPP) {
                                throw new AssertionError("expand_array: " + rc);
                            }
                        }
                    } catch (Throwable t) {
                        failed.set(t);
                    }
                });
                expander.start();
                assertEquals(0, guest.d.reset(DomId.SELF));
                expander.join();
                assertNull(failed.get());
                assertFalse(guest.d.isFifo());
                assertEquals(EOPNOTSUPP, guest.d.expandArray(FifoGuest.ARRAY_GFN));
                assertNull(guest.d.selfCheck());
                assertTrue(guest.d.bindIpi(0) > 0);
            } finally {
                local.close();
            }
        }
    }
}
