package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * Host-side backends through {@code Domains.host().open()}: the libxenevtchn-shaped
 * {@link EvtchnHandle} connected to ports that a guest offers with
 * {@code alloc_unbound(DOMID_SELF, 0)}. Every case runs for a 64-bit and a 32-bit guest; the
 * guest's 2-level bits are read straight from guest RAM at the reference offsets.
 */
class HostBackendTest {
    /** A distinctive domid, so that a message naming it is recognisable. */
    static final int GUEST = 7;
    static final int ABSENT = 9;
    static final long RAM = 1L << 20;
    static final long SHARED_INFO_GFN = 0x20;
    static final long SHARED_INFO_GPA = SHARED_INFO_GFN * 4096;
    static final UpcallRoute.Vector CALLBACK = new UpcallRoute.Vector(0xF3);
    /** Long enough that a delivery that should come does; short enough to keep the suite quick. */
    static final long WAIT_MS = 2000;
    /** How long to wait for something that must not come. */
    static final long QUIET_MS = 50;

    @Nested
    class Guest64 extends Cases {
        @Override
        GuestWidth width() {
            return GuestWidth.X86_64;
        }
    }

    @Nested
    class Guest32 extends Cases {
        @Override
        GuestWidth width() {
            return GuestWidth.X86_32;
        }
    }

    abstract static class Cases {
        Domains domains;
        SoftwareBackend vcpus;
        GuestEventChannels guest;
        EvtchnHandle h;
        final List<EvtchnHandle> handles = new ArrayList<>();
        final List<SoftwareBackend> backends = new ArrayList<>();

        abstract GuestWidth width();

        @BeforeEach
        void setUp() {
            domains = new Domains();
            vcpus = new SoftwareBackend(GUEST, 2, RAM, call -> -Errno.ENOSYS);
            backends.add(vcpus);
            guest = domains.create(GUEST, width(), vcpus);
            assertEquals(0, guest.mapSharedInfo(SHARED_INFO_GFN));
            guest.upcalls().setCallback(CALLBACK);
            h = open();
        }

        @AfterEach
        void tearDown() throws Exception {
            for (EvtchnHandle x : handles) {
                x.close();
            }
            for (SoftwareBackend b : backends) {
                b.close();
            }
        }

        EvtchnHandle open() {
            EvtchnHandle x = domains.host().open();
            handles.add(x);
            return x;
        }

        // ---- the guest's view, read from guest RAM at the reference offsets ----------------

        MemorySegment ram() {
            return vcpus.memory().ram();
        }

        int bits() {
            return width() == GuestWidth.X86_64 ? 64 : 32;
        }

        long pendingWordGpa(int port) {
            return SHARED_INFO_GPA + 0x800 + (long) (port / bits()) * (bits() / 8);
        }

        long maskWordGpa(int port) {
            long mask = width() == GuestWidth.X86_64 ? 0xA00 : 0x880;
            return SHARED_INFO_GPA + mask + (long) (port / bits()) * (bits() / 8);
        }

        long word(long gpa) {
            return bits() == 64 ? GuestField.u64(ram(), gpa) : Integer.toUnsignedLong(GuestField.u32(ram(), gpa));
        }

        void setWord(long gpa, long value) {
            if (bits() == 64) {
                GuestField.u64(ram(), gpa, value);
            } else {
                GuestField.u32(ram(), gpa, (int) value);
            }
        }

        boolean guestPending(int port) {
            return (word(pendingWordGpa(port)) >>> (port % bits()) & 1) != 0;
        }

        /** No pending bit anywhere in evtchn_pending. */
        boolean noGuestPending() {
            int ports = bits() * bits();
            for (int p = 0; p < ports; p += bits()) {
                if (word(pendingWordGpa(p)) != 0) {
                    return false;
                }
            }
            return true;
        }

        void guestMask(int port) {
            long gpa = maskWordGpa(port);
            setWord(gpa, word(gpa) | 1L << (port % bits()));
        }

        long vcpuInfoGpa(int vcpu) {
            return SHARED_INFO_GPA + vcpu * 64L;
        }

        int upcallPending(int vcpu) {
            return GuestField.u8(ram(), vcpuInfoGpa(vcpu));
        }

        long pendingSel(int vcpu) {
            long at = vcpuInfoGpa(vcpu) + (bits() == 64 ? 8 : 4);
            return bits() == 64 ? GuestField.u64(ram(), at) : Integer.toUnsignedLong(GuestField.u32(ram(), at));
        }

        /** What the guest's upcall handler does: clear upcall_pending, pending_sel and the port's bit. */
        void guestHandles(int vcpu, int port) {
            GuestField.u8(ram(), vcpuInfoGpa(vcpu), 0);
            setWord(vcpuInfoGpa(vcpu) + (bits() == 64 ? 8 : 4), 0);
            long gpa = pendingWordGpa(port);
            setWord(gpa, word(gpa) & ~(1L << (port % bits())));
        }

        long upcalls(int vcpu) {
            return vcpus.vcpu(vcpu).upcallsDelivered();
        }

        // ---- helpers --------------------------------------------------------------------

        /** The guest offers a port to the host: alloc_unbound(DOMID_SELF, 0). */
        int offer() {
            int gp = guest.allocUnbound(DomId.SELF, DomId.HOST);
            assertTrue(gp > 0, "alloc_unbound answered " + Errno.describe(gp));
            return gp;
        }

        /** Uses up the lowest ports with IPIs so that the next one is at least 10 (numbers easy to spot in messages). */
        void fillLowPorts() {
            while (guest.bindIpi(0) < 9) {
                // ports 1..9
            }
        }

        /** Binds and consumes the bind-time event (Xen sets the new local port pending), leaving the port unmasked. */
        int bindAndDrain(EvtchnHandle x, int gp) throws Exception {
            int hp = x.bindInterdomain(GUEST, gp);
            assertTrue(hp > 0);
            assertEquals(hp, x.pending(), "the new host port is pending once after the bind, as Xen sets it");
            x.unmask(hp);
            assertEquals(-1, x.pending(), "nothing else came");
            return hp;
        }

        PortStatus status(int gp) {
            PortStatus st = guest.status(DomId.SELF, gp);
            assertEquals(0, st.error(), "status of " + gp);
            return st;
        }

        static EvtchnException fails(int errno, Executable op) {
            EvtchnException e = assertThrows(EvtchnException.class, op);
            assertEquals(errno, e.errno(), () -> "errno of \"" + e.getMessage() + "\"");
            return e;
        }

        static void assertNames(String message, long number) {
            assertTrue(Pattern.compile("\\b" + number + "\\b").matcher(message).find(),
                    () -> "\"" + message + "\" should name " + number);
        }

        // ---- bind ----------------------------------------------------------------------

        @Test
        void bindConnectsTheGuestEndToTheHostPort() throws Exception {
            int gp = offer();
            PortStatus before = status(gp);
            assertEquals(EvtchnStat.UNBOUND, before.status());
            assertEquals(0, before.remoteDom(), "offered to the host, domain 0");

            int hp = h.bindInterdomain(GUEST, gp);
            assertTrue(hp > 0);
            PortStatus after = status(gp);
            assertEquals(EvtchnStat.INTERDOMAIN, after.status());
            assertEquals(0, after.remoteDom());
            assertEquals(hp, after.remotePort());
            assertEquals(0, after.vcpu());
            assertEquals(new EvtchnHandle.Peer(GUEST, gp), h.peer(hp));
        }

        @Test
        void bindSetsOnlyTheNewHostPortPending() throws Exception {
            int gp = offer();
            int hp = h.bindInterdomain(GUEST, gp);
            assertEquals(hp, h.pending(), "Xen sets the new local port pending");
            assertEquals(-1, h.pending(), "and reports it once");
            assertFalse(guestPending(gp), "the guest's end is not raised by the host's bind");
            assertEquals(0, upcalls(0));
            assertEquals(0, upcalls(1));
        }

        @Test
        void bindToAPortNotOfferedToTheHostIsEinvalAndConsumesNoHostPort() throws Exception {
            fillLowPorts();
            int toSelf = guest.allocUnbound(DomId.SELF, DomId.SELF);
            int toAbsent = guest.allocUnbound(DomId.SELF, ABSENT);
            assertTrue(toSelf >= 10 && toAbsent >= 10);

            EvtchnException e1 = fails(Errno.EINVAL, () -> h.bindInterdomain(GUEST, toSelf));
            assertNames(e1.getMessage(), toSelf);
            assertNames(e1.getMessage(), GUEST);
            EvtchnException e2 = fails(Errno.EINVAL, () -> h.bindInterdomain(GUEST, toAbsent));
            assertNames(e2.getMessage(), toAbsent);

            PortStatus st = status(toSelf);
            assertEquals(EvtchnStat.UNBOUND, st.status(), "a failed bind leaves the guest port alone");
            assertEquals(GUEST, st.remoteDom());
            assertEquals(ABSENT, status(toAbsent).remoteDom());
            assertEquals(1, h.bindInterdomain(GUEST, offer()), "no host port was consumed by the failures");
        }

        @Test
        void bindToAPortThatIsNotUnboundIsEinval() throws Exception {
            fillLowPorts();
            int ipi = guest.bindIpi(1);
            int virq = guest.bindVirq(0, 0);
            int gp = offer();
            int hp = h.bindInterdomain(GUEST, gp);
            int free = 40; // valid (group 0 is in use) but never allocated
            assertEquals(EvtchnStat.CLOSED, status(free).status());
            int limit = bits() * bits();

            for (int port : new int[] {ipi, virq, gp, free}) {
                EvtchnException e = fails(Errno.EINVAL, () -> h.bindInterdomain(GUEST, port));
                assertNames(e.getMessage(), port);
                assertNames(e.getMessage(), GUEST);
            }
            for (int port : new int[] {0, limit, limit + 1, 100_000, -1, Integer.MIN_VALUE}) {
                fails(Errno.EINVAL, () -> h.bindInterdomain(GUEST, port));
            }
            assertEquals(new EvtchnHandle.Peer(GUEST, gp), h.peer(hp), "the first binding is untouched");
            assertEquals(hp, status(gp).remotePort());
            assertEquals(EvtchnStat.IPI, status(ipi).status());
        }

        @Test
        void bindToAMissingDomainIsEsrch() throws Exception {
            offer();
            for (int dom : new int[] {ABSENT, DomId.SELF, DomId.HOST, 0x7FEF, 0xFFFF, -1}) {
                EvtchnException e = fails(Errno.ESRCH, () -> h.bindInterdomain(dom, 1));
                assertTrue(e.getMessage().contains(Integer.toString(dom)), () -> "\"" + e.getMessage() + "\" should name " + dom);
            }
        }

        @Test
        void destroyingTheGuestUnbindsTheHostEnd() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertTrue(domains.destroy(GUEST));
            assertNull(h.peer(hp), "the host port is unbound once its guest is gone");
            assertDoesNotThrow(() -> h.notify(hp));
            fails(Errno.ESRCH, () -> h.bindInterdomain(GUEST, gp));
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
        }

        // ---- notify: host → guest --------------------------------------------------------

        @Test
        void notifyMakesTheGuestPortPendingWithOneUpcall() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertFalse(guestPending(gp));
            assertEquals(0, upcalls(0));

            h.notify(hp);
            assertTrue(guestPending(gp), "evtchn_pending bit of the guest port");
            assertEquals(1L << (gp / bits()), pendingSel(0), "pending_sel names the port's word");
            assertEquals(1, upcallPending(0), "evtchn_upcall_pending");
            assertEquals(1, upcalls(0), "one upcall");
            assertEquals(CALLBACK, vcpus.vcpu(0).lastRoute(), "by the domain's callback");
            assertEquals(0, upcalls(1), "on the port's vCPU only");

            h.notify(hp);
            assertEquals(1, upcalls(0), "a port already pending is not raised again");

            guestHandles(0, gp);
            h.notify(hp);
            assertTrue(guestPending(gp));
            assertEquals(2, upcalls(0), "after the guest handled it, a new event upcalls again");
        }

        @Test
        void notifyFollowsTheGuestPortsVcpu() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertEquals(0, guest.bindVcpu(gp, 1));
            h.notify(hp);
            assertTrue(guestPending(gp));
            assertEquals(1, upcalls(1));
            assertEquals(0, upcalls(0));
            assertEquals(1L << (gp / bits()), pendingSel(1));
            assertEquals(0, pendingSel(0));
        }

        @Test
        void notifyOnAMaskedGuestPortSetsPendingWithoutUpcallUntilUnmask() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            guestMask(gp);
            java.util.concurrent.CompletableFuture<Integer> poller = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> guest.poll(0, new int[] {gp}, System.nanoTime() + 10_000_000_000L, true),
                    r -> Thread.ofPlatform().start(r));
            Thread.sleep(20);
            h.notify(hp);
            assertTrue(guestPending(gp), "a masked port still becomes pending");
            assertEquals(0, upcalls(0), "but raises no upcall");
            assertEquals(0, upcallPending(0));
            assertEquals(0, poller.get(5, java.util.concurrent.TimeUnit.SECONDS), "a vCPU polling it is woken");
            assertEquals(0, guest.unmask(gp));
            assertEquals(1, upcalls(0), "unmask delivers the event that was pending while masked");
            assertEquals(1, upcallPending(0));
        }

        // ---- guest → host ----------------------------------------------------------------

        @Test
        void guestSendIsReportedByPending() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertEquals(0, guest.send(gp));
            assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
        }

        @Test
        void pendingWaitsForAnEventSentLater() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            Thread sender = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    return;
                }
                guest.send(gp);
            });
            try {
                assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            } finally {
                sender.join(WAIT_MS);
            }
        }

        @Test
        void sendsBeforeUnmaskAreReportedOnceThenOnceMoreAfterUnmask() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertEquals(0, guest.send(gp));
            assertEquals(0, guest.send(gp));
            assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(0, guest.send(gp));
            assertEquals(0, guest.send(gp));
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS), "masked until unmask: not queued twice");
            h.unmask(hp);
            assertEquals(hp, h.pending(), "events that came while masked are reported once after the unmask");
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS), "exactly once");
            h.unmask(hp);
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS), "nothing came since the last report");
        }

        @Test
        void unmaskWithoutNewEventsReportsNothing() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertEquals(0, guest.send(gp));
            assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            h.unmask(hp);
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
            assertEquals(0, guest.send(gp));
            assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS), "unmasked again: the next event is reported");
        }

        @Test
        void pendingIsMinusOneWhenNothingCame() throws Exception {
            assertEquals(-1, h.pending());
            long t0 = System.nanoTime();
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(QUIET_MS) / 2, "pending(timeout) waited");
            int gp = offer();
            bindAndDrain(h, gp);
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
        }

        @Test
        void handlesOnlySeeTheirOwnPortsEvents() throws Exception {
            EvtchnHandle h2 = open();
            int gp1 = offer();
            int gp2 = offer();
            int hp1 = bindAndDrain(h, gp1);
            int hp2 = bindAndDrain(h2, gp2);
            assertNotEquals(hp1, hp2);
            assertEquals(0, guest.send(gp2));
            assertEquals(hp2, h2.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
            assertEquals(0, guest.send(gp1));
            assertEquals(hp1, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(-1, h2.pending());
        }

        // ---- closing either end ----------------------------------------------------------

        @Test
        void guestCloseLeavesTheHostPortUnboundAndNotifyIsDropped() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            assertEquals(0, guest.close(gp));
            assertNull(h.peer(hp), "the host end is unbound");
            assertEquals(EvtchnStat.CLOSED, status(gp).status());

            assertDoesNotThrow(() -> h.notify(hp), "notify on an unbound host port is silently dropped");
            assertTrue(noGuestPending(), "nothing became pending in the guest");
            assertEquals(0, upcalls(0));
            assertEquals(0, upcalls(1));

            int again = offer();
            assertEquals(gp, again, "the guest reuses the lowest free port");
            h.notify(hp);
            assertFalse(guestPending(again), "the old host port does not reach the port's new binding");
            assertEquals(EvtchnStat.UNBOUND, status(again).status());
            assertDoesNotThrow(() -> h.unbind(hp), "the handle still owns its unbound port");
        }

        @Test
        void unbindReturnsTheGuestPortToUnboundAndItCanBeBoundAgain() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            h.unbind(hp);
            PortStatus st = status(gp);
            assertEquals(EvtchnStat.UNBOUND, st.status());
            assertEquals(0, st.remoteDom(), "offered to the host again");
            EvtchnException e = fails(Errno.EINVAL, () -> h.peer(hp));
            assertNames(e.getMessage(), hp);
            fails(Errno.EINVAL, () -> h.unbind(hp));
            fails(Errno.EINVAL, () -> h.notify(hp));
            assertEquals(0, guest.send(gp), "a send on the unbound guest port is dropped");
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));

            EvtchnHandle h2 = open();
            int hp2 = bindAndDrain(h2, gp);
            assertEquals(new EvtchnHandle.Peer(GUEST, gp), h2.peer(hp2));
            assertEquals(EvtchnStat.INTERDOMAIN, status(gp).status());
            assertEquals(hp2, status(gp).remotePort());
            assertEquals(0, guest.send(gp));
            assertEquals(hp2, h2.pending(WAIT_MS, TimeUnit.MILLISECONDS));
            assertEquals(-1, h.pending());
        }

        @Test
        void anEventOfAnUnboundPortIsNotReportedTwiceForItsRebinding() throws Exception {
            int gp = offer();
            int hp = h.bindInterdomain(GUEST, gp); // its bind-time event stays queued
            h.unbind(hp);
            int hp2 = h.bindInterdomain(GUEST, gp);
            assertEquals(hp, hp2, "the lowest free host port is reused");
            assertEquals(hp2, h.pending(), "the new binding's bind-time event");
            assertEquals(-1, h.pending(),
                    "the port stays masked until unmask: it must not be reported a second time"
                            + " (a stale queue entry of the unbound port)");
        }

        @Test
        void unbindingAPortWithAnOutstandingEventResetsItsEventState() throws Exception {
            int gp = offer();
            int hp = h.bindInterdomain(GUEST, gp);
            assertEquals(hp, h.pending(), "reported, so masked until unmask");
            assertEquals(0, guest.send(gp)); // comes in while masked: remembered for the unmask
            h.unbind(hp); // never unmasked
            EvtchnHandle h2 = open();
            int hp2 = h2.bindInterdomain(GUEST, gp);
            assertEquals(hp, hp2, "the lowest free host port is reused");
            assertEquals(hp2, h2.pending(), "the new binding starts unmasked: its bind-time event is reported");
            h2.unmask(hp2);
            assertEquals(0, guest.send(gp));
            assertEquals(hp2, h2.pending(WAIT_MS, TimeUnit.MILLISECONDS), "and so are later events");
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS), "nothing for the old handle");
        }

        @Test
        void portsOfAnotherHandleAreRefused() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            EvtchnHandle h2 = open();
            for (Executable op : List.<Executable>of(() -> h2.notify(hp), () -> h2.unbind(hp),
                    () -> h2.unmask(hp), () -> h2.peer(hp))) {
                EvtchnException e = fails(Errno.EINVAL, op);
                assertNames(e.getMessage(), hp);
            }
            fails(Errno.EINVAL, () -> h2.notify(0));
            fails(Errno.EINVAL, () -> h2.notify(-1));
            fails(Errno.EINVAL, () -> h2.notify(100_000));
            assertEquals(new EvtchnHandle.Peer(GUEST, gp), h.peer(hp), "the owner keeps it");
            assertEquals(0, guest.send(gp));
            assertEquals(-1, h2.pending(QUIET_MS, TimeUnit.MILLISECONDS));
            assertEquals(hp, h.pending(WAIT_MS, TimeUnit.MILLISECONDS));
        }

        @Test
        void closeUnbindsEveryPortOfTheHandle() throws Exception {
            int[] gps = {offer(), offer(), offer()};
            int[] hps = new int[3];
            for (int i = 0; i < 3; i++) {
                hps[i] = bindAndDrain(h, gps[i]);
            }
            assertEquals(1, hps[0]);
            h.close();
            for (int gp : gps) {
                PortStatus st = status(gp);
                assertEquals(EvtchnStat.UNBOUND, st.status(), "guest port " + gp);
                assertEquals(0, st.remoteDom());
                assertEquals(0, guest.send(gp));
            }
            EvtchnHandle h3 = open();
            for (int i = 0; i < 3; i++) {
                assertEquals(hps[i], bindAndDrain(h3, gps[i]), "the closed handle's host ports were freed");
            }
            assertEquals(0, guest.send(gps[1]));
            assertEquals(hps[1], h3.pending(WAIT_MS, TimeUnit.MILLISECONDS));
        }

        @Test
        void aClosedHandleFailsClearly() throws Exception {
            int gp = offer();
            int hp = bindAndDrain(h, gp);
            h.close();
            for (Executable op : List.<Executable>of(() -> h.bindInterdomain(GUEST, offer()), () -> h.notify(hp),
                    () -> h.unbind(hp), () -> h.unmask(hp), () -> h.peer(hp))) {
                EvtchnException e = fails(Errno.EINVAL, op);
                assertTrue(e.getMessage().contains("closed"), () -> "\"" + e.getMessage() + "\" should say the handle is closed");
            }
            assertEquals(-1, h.pending());
            assertEquals(-1, h.pending(QUIET_MS, TimeUnit.MILLISECONDS));
            assertDoesNotThrow(h::close, "closing twice is harmless");
            assertEquals(0, guest.send(gp));
            assertEquals(-1, h.pending());
            EvtchnHandle h2 = open();
            assertEquals(hp, bindAndDrain(h2, gp), "other handles go on working");
        }
    }
}
