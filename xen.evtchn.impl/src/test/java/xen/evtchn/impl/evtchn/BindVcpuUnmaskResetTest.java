package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EINVAL;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOENT;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOSYS;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EOPNOTSUPP;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EPERM;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ESRCH;
import static xen.evtchn.impl.evtchn.EvtchnFixture.SELF;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/** bind_vcpu, unmask, reset and the FIFO-only ops: every case of xen-abi.md, both widths. */
class BindVcpuUnmaskResetTest extends EvtchnTestBase {
    private static final int TIMER = 0;
    private static final int DEBUG = 1;
    private static final int CONSOLE = 2;

    // ---- bind_vcpu ----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_noSuchVcpu_enoentCheckedBeforePort(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(ENOENT, g.d.bindVcpu(p, 2), "vCPU 2 of 2, good port"),
                () -> assertEquals(ENOENT, g.d.bindVcpu(p, -1), "u32 0xFFFFFFFF"),
                () -> assertEquals(ENOENT, g.d.bindVcpu(g.limit + 7, 2), "bad port and bad vCPU"),
                () -> assertEquals(ENOENT, g.d.bindVcpu(0, 5), "port 0 and bad vCPU"));
        assertEquals(0, g.status(p).vcpu(), "unchanged");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_invalidPort_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(EINVAL, g.d.bindVcpu(g.limit, 1)),
                () -> assertEquals(EINVAL, g.d.bindVcpu(-1, 1), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.bindVcpu(500, 1), "never valid"),
                () -> assertEquals(EINVAL, g.d.bindVcpu(0, 1), "reserved port 0"));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_perVcpuVirq_einval(GuestWidth w) {
        Guest g = guest(w);
        int t = g.d.bindVirq(TIMER, 0);
        int d = g.d.bindVirq(DEBUG, 0);
        assertEquals(EINVAL, g.d.bindVcpu(t, 1));
        assertEquals(EINVAL, g.d.bindVcpu(d, 1));
        assertEquals(0, g.status(t).vcpu());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_ipi_einval(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        assertEquals(EINVAL, g.d.bindVcpu(p, 1));
        assertEquals(0, g.status(p).vcpu());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_freeOrClosedPort_einval(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.bindVcpu(p + 1, 1), "never bound");
        assertEquals(0, g.d.close(p));
        assertEquals(EINVAL, g.d.bindVcpu(p, 1), "closed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_globalVirq_moves_raiseDeliversOnNewVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(CONSOLE, 0);
        assertEquals(0, g.d.bindVcpu(p, 1));
        assertEquals(1, g.status(p).vcpu());
        assertEquals(CONSOLE, g.status(p).virq());
        assertTrue(g.d.raiseVirq(CONSOLE, 0), "a global VIRQ is raised as vCPU 0's");
        g.assertDelivered(p, 1);
        assertEquals(1, g.upcalls(1));
        assertEquals(0, g.upcalls(0));
        assertEquals(0, g.pendingSel(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_unbound_moves_keptWhenPeerBinds(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        assertEquals(0, a.d.bindVcpu(pa, 1));
        assertEquals(1, a.status(pa).vcpu());
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(1, a.status(pa).vcpu(), "the notify vCPU survives the bind");
        assertEquals(0, b.d.send(pb));
        a.assertDelivered(pa, 1);
        assertEquals(1, a.upcalls(1));
        assertEquals(0, a.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_interdomain_moves_sendUpcallsNewVcpuNotOld(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        g.guestAcknowledges(0, l);
        long before0 = g.upcalls(0);
        assertEquals(0, g.d.bindVcpu(u, 1));
        assertEquals(EvtchnStat.INTERDOMAIN, g.status(u).status());
        assertEquals(1, g.status(u).vcpu());
        assertEquals(0, g.d.send(l));
        g.assertDelivered(u, 1);
        assertEquals(1, g.upcalls(1), "upcall on the new vCPU");
        assertEquals(before0, g.upcalls(0), "none on the old");
        assertEquals(0, g.pendingSel(0), "old vCPU's pending_sel untouched");
        assertEquals(0, g.upcallPending(0), "old vCPU's upcall_pending untouched");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_alreadyPending_notReRaisedOnNewVcpu(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        g.guestAcknowledges(0, l);
        assertEquals(0, g.d.send(l));
        g.assertDelivered(u, 0);
        long up0 = g.upcalls(0);
        assertEquals(0, g.d.bindVcpu(u, 1));
        assertEquals(0, g.upcalls(1), "Xen does not re-raise a pending event on the new vCPU");
        assertEquals(0, g.pendingSel(1));
        assertEquals(0, g.upcallPending(1));
        assertEquals(up0, g.upcalls(0));
        assertTrue(g.pending(u), "the event stays pending");
    }

    // ---- unmask --------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_portAtOrAboveLimit_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(EINVAL, g.d.unmask(g.limit)),
                () -> assertEquals(EINVAL, g.d.unmask(g.limit + 1)),
                () -> assertEquals(EINVAL, g.d.unmask(-1), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.unmask(Integer.MIN_VALUE)),
                () -> assertEquals(EINVAL, g.d.unmask(500), "never valid"));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_validFreePort_returns0NoUpcall(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        g.mask(5);
        assertEquals(0, g.d.unmask(5));
        assertEquals(0, g.d.unmask(63));
        assertEquals(0, g.d.unmask(0), "port 0 is valid (reserved): a no-op");
        assertEquals(0, g.totalUpcalls());
        assertFalse(g.anyPending());
    }

    /** Xen: bucket 0 is valid from domain creation (evtchn_init), so unmask(1) answers 0 at once. */
    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_port1_freshDomain_returns0(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(0, g.d.unmask(1));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_maskedPendingPort_clearsMaskAndDeliversExactlyOnce(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.mask(p);
        assertEquals(0, g.d.send(p));
        assertTrue(g.pending(p));
        assertEquals(0, g.pendingSel(0), "masked: no pending_sel");
        assertEquals(0, g.upcallPending(0), "masked: no upcall_pending");
        assertEquals(0, g.upcalls(0));

        assertEquals(0, g.d.unmask(p));
        assertFalse(g.masked(p), "mask bit cleared");
        g.assertDelivered(p, 0);
        assertEquals(1, g.upcalls(0), "one upcall");

        assertEquals(0, g.d.unmask(p));
        assertEquals(1, g.upcalls(0), "a second unmask does not deliver again");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_maskedNotPendingPort_clearsMaskNoUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.mask(p);
        assertEquals(0, g.d.unmask(p));
        assertFalse(g.masked(p));
        assertFalse(g.pending(p));
        assertEquals(0, g.pendingSel(0));
        assertEquals(0, g.upcallPending(0));
        assertEquals(0, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_notMaskedButPending_noNewUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.d.send(p);
        assertEquals(1, g.upcalls(0));
        g.setUpcallPending(0, 0);
        g.setPendingSel(0, 0);
        assertEquals(0, g.d.unmask(p));
        assertEquals(1, g.upcalls(0), "the mask bit was clear: nothing to deliver");
        assertEquals(0, g.upcallPending(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_deliversOnThePortsVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(1);
        g.mask(p);
        g.d.send(p);
        assertEquals(0, g.d.unmask(p));
        g.assertDelivered(p, 1);
        assertEquals(1, g.upcalls(1));
        assertEquals(0, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unmask_highestPortMaskedPending_delivers(GuestWidth w) {
        Guest g = guest(w);
        for (int i = 1; i < g.limit - 1; i++) {
            g.d.allocUnbound(SELF, SELF);
        }
        int p = g.d.bindIpi(0);
        assertEquals(g.limit - 1, p);
        g.mask(p);
        g.d.send(p);
        assertEquals(0, g.upcalls(0));
        assertEquals(0, g.d.unmask(p));
        g.assertDelivered(p, 0);
        assertEquals(1L << (g.bits - 1), g.pendingSel(0), "only the last pending_sel bit");
        assertEquals(1, g.upcalls(0));
    }

    // ---- reset ---------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_otherExistingDomain_eperm(GuestWidth w) {
        Guest g = guest(w);
        Guest other = fx.guest(2, w, 1);
        int p = g.d.allocUnbound(SELF, SELF);
        int q = other.d.allocUnbound(SELF, SELF);
        assertEquals(EPERM, g.d.reset(2));
        assertEquals(EPERM, g.d.reset(0), "host domain 0");
        assertEquals(EvtchnStat.UNBOUND, g.status(p).status());
        assertEquals(EvtchnStat.UNBOUND, other.status(q).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_nonexistentDomain_esrch(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        assertEquals(ESRCH, g.d.reset(77));
        assertEquals(ESRCH, g.d.reset(0x7FF1));
        assertEquals(EvtchnStat.UNBOUND, g.status(p).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_closesEveryPort_statusClosedPendingCleared(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int lu = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, lu);
        int t = g.d.bindVirq(TIMER, 1);
        int c = g.d.bindVirq(CONSOLE, 0);
        int i = g.d.bindIpi(0);
        g.d.send(i);
        g.d.raiseVirq(TIMER, 1);
        assertTrue(g.pending(i) && g.pending(t) && g.pending(l));

        assertEquals(0, g.d.reset(SELF));
        for (int p : new int[] {u, lu, l, t, c, i}) {
            PortStatus st = g.status(p);
            assertEquals(0, st.error(), "port " + p);
            assertEquals(EvtchnStat.CLOSED, st.status(), "port " + p + " closed");
        }
        assertFalse(g.anyPending(), "every pending bit cleared");
        assertFalse(g.d.raiseVirq(TIMER, 1), "VIRQ bindings are gone");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_ownDomid_works(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        assertEquals(0, g.d.reset(1));
        assertEquals(EvtchnStat.CLOSED, g.status(p).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_peersInAnotherDomainReturnToUnbound(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        int pb2 = b.d.allocUnbound(SELF, 1);
        int pa2 = a.d.bindInterdomain(2, pb2);
        assertEquals(0, a.d.reset(SELF));
        for (int p : new int[] {pb, pb2}) {
            PortStatus st = b.status(p);
            assertEquals(EvtchnStat.UNBOUND, st.status(), "B's port " + p);
            assertEquals(1, st.remoteDom(), "offered to the resetting domain");
        }
        assertEquals(EvtchnStat.CLOSED, a.status(pa).status());
        assertEquals(EvtchnStat.CLOSED, a.status(pa2).status());
        assertEquals(0, b.d.send(pb), "B's send is dropped now");
        assertFalse(a.anyPending());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_hostBackendPeerReturnsToUnbound(GuestWidth w) throws EvtchnException {
        Guest g = guest(w);
        int gp = g.d.allocUnbound(SELF, 0);
        try (EvtchnHandle h = fx.domains.host().open()) {
            int hp = h.bindInterdomain(1, gp);
            assertEquals(new EvtchnHandle.Peer(1, gp), h.peer(hp));
            assertEquals(0, g.d.reset(SELF));
            assertNull(h.peer(hp), "the host's end is unbound after the guest's reset");
            assertEquals(EvtchnStat.CLOSED, g.status(gp).status());
        }
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_previouslyValidPortsStayValid(GuestWidth w) {
        Guest g = guest(w);
        List<Integer> ports = g.fill();
        assertEquals(g.limit - 1, ports.size());
        assertEquals(0, g.d.reset(SELF));
        for (int p : new int[] {1, 63, 64, 500, g.limit - 1}) {
            PortStatus st = g.status(p);
            assertEquals(0, st.error(), "port " + p + " stays valid after reset");
            assertEquals(EvtchnStat.CLOSED, st.status());
        }
        assertEquals(0, g.d.unmask(g.limit - 1), "unmask of a once-valid port is a no-op");
        assertEquals(EINVAL, g.status(g.limit).error());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_portsAllocatedFrom1Again(GuestWidth w) {
        Guest g = guest(w);
        for (int i = 0; i < 100; i++) {
            g.d.allocUnbound(SELF, SELF);
        }
        assertEquals(0, g.d.reset(SELF));
        assertEquals(1, g.d.allocUnbound(SELF, SELF));
        assertEquals(2, g.d.bindIpi(0));
        assertEquals(3, g.d.bindVirq(TIMER, 0), "the VIRQ can be bound again");
        List<Integer> rest = g.fill();
        assertEquals(g.limit - 4, rest.size(), "the whole table is free again");
    }

    // ---- FIFO-only ops under 2-level ------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void twoLevel_setPriority_enosys_expandArray_eopnotsupp_bindPirq_enosys(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        assertAll(
                () -> assertEquals(EOPNOTSUPP, g.d.expandArray(0x21)),
                () -> assertEquals(ENOSYS, g.d.setPriority(p, 3)),
                () -> assertEquals(ENOSYS, g.d.bindPirq(5, 1)));
        assertEquals(EvtchnStat.IPI, g.status(p).status());
    }
}
