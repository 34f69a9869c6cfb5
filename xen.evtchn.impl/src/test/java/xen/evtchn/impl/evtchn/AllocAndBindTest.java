package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EEXIST;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EINVAL;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOENT;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOSPC;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOSYS;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EPERM;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ESRCH;
import static xen.evtchn.impl.evtchn.EvtchnFixture.SELF;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/** alloc_unbound, bind_interdomain, bind_virq, bind_ipi, bind_pirq: every case of xen-abi.md, both widths. */
class AllocAndBindTest extends EvtchnTestBase {
    private static final int TIMER = 0;
    private static final int CONSOLE = 2;
    private static final int UNASSIGNED_5 = 5;
    private static final int ARGO = 11;
    private static final int ARCH_0 = 16;

    // ---- alloc_unbound ----------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_selfOrOwnId_returnsLowestFreePortsFrom1(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(1, g.d.allocUnbound(SELF, SELF));
        assertEquals(2, g.d.allocUnbound(1, SELF));
        assertEquals(3, g.d.allocUnbound(SELF, 0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_closedPortIsReusedLowestFirst(GuestWidth w) {
        Guest g = guest(w);
        for (int i = 1; i <= 5; i++) {
            assertEquals(i, g.d.allocUnbound(SELF, SELF));
        }
        assertEquals(0, g.d.close(4));
        assertEquals(0, g.d.close(2));
        assertEquals(2, g.d.allocUnbound(SELF, SELF));
        assertEquals(4, g.d.allocUnbound(SELF, SELF));
        assertEquals(6, g.d.allocUnbound(SELF, SELF));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_domIsAnotherExistingGuest_eperm(GuestWidth w) {
        Guest g = guest(w);
        fx.guest(2, w, 1);
        assertEquals(EPERM, g.d.allocUnbound(2, SELF));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "the failed call consumed no port");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_domIsHostDomain0_eperm(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(EPERM, g.d.allocUnbound(0, SELF));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_domExistsNowhere_esrch(GuestWidth w) {
        Guest g = guest(w);
        assertAll(
                () -> assertEquals(ESRCH, g.d.allocUnbound(77, SELF), "dom 77"),
                () -> assertEquals(ESRCH, g.d.allocUnbound(0x7FF1, SELF), "dom 0x7FF1 (reserved)"),
                () -> assertEquals(ESRCH, g.d.allocUnbound(0xFFFF, SELF), "dom 0xFFFF"));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "the failed calls consumed no port");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_full_enospcAfterExactlyLimitMinus1Ports(GuestWidth w) {
        Guest g = guest(w);
        List<Integer> ports = g.fill();
        assertEquals(g.limit - 1, ports.size(), "port 0 is reserved: limit-1 ports can be allocated");
        for (int i = 0; i < ports.size(); i++) {
            assertEquals(i + 1, ports.get(i), "allocation order is lowest free first");
        }
        assertEquals(ENOSPC, g.d.allocUnbound(SELF, SELF));
        assertEquals(ENOSPC, g.d.allocUnbound(SELF, SELF), "still full");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_remoteDomSelf_storedAsOwnId(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        PortStatus st = g.status(p);
        assertEquals(0, st.error());
        assertEquals(EvtchnStat.UNBOUND, st.status());
        assertEquals(1, st.remoteDom(), "remote_dom DOMID_SELF is stored as the caller's id");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_remoteDomOther_storedAsGiven(GuestWidth w) {
        Guest g = guest(w);
        int p0 = g.d.allocUnbound(SELF, 0);
        int p2 = g.d.allocUnbound(SELF, 2);
        assertEquals(0, g.status(p0).remoteDom());
        assertEquals(2, g.status(p2).remoteDom());
        assertEquals(0, g.status(p2).vcpu(), "a new unbound port notifies vCPU 0");
    }

    // ---- bind_interdomain -------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_unknownRemoteDom_esrch(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(ESRCH, g.d.bindInterdomain(77, 1), "dom 77"),
                () -> assertEquals(ESRCH, g.d.bindInterdomain(0x7FF1, 1), "dom 0x7FF1"),
                () -> assertEquals(ESRCH, g.d.bindInterdomain(0xFFFF, 1), "dom 0xFFFF"));
        assertEquals(EvtchnStat.UNBOUND, g.status(1).status());
        assertEquals(2, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortAtOrAboveLimit_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(EINVAL, g.d.bindInterdomain(SELF, g.limit)),
                () -> assertEquals(EINVAL, g.d.bindInterdomain(SELF, g.limit + 1)),
                () -> assertEquals(EINVAL, g.d.bindInterdomain(SELF, -1), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.bindInterdomain(SELF, Integer.MIN_VALUE), "u32 0x80000000"));
        assertEquals(2, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortNeverValid_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, 500), "port 500 was never in an allocated bucket");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortFree_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(0, g.d.close(2));
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, 2), "closed port");
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, 5), "valid, never used port");
        assertEquals(2, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortReserved0_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, 0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortIsVirq_einval(GuestWidth w) {
        Guest g = guest(w);
        int virq = g.d.bindVirq(TIMER, 0);
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, virq));
        assertEquals(EvtchnStat.VIRQ, g.status(virq).status(), "the VIRQ port is untouched");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortIsIpi_einval(GuestWidth w) {
        Guest g = guest(w);
        int ipi = g.d.bindIpi(0);
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, ipi));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortAlreadyInterdomain_einval(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        assertTrue(l > 0);
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, u), "already connected");
        assertEquals(EINVAL, g.d.bindInterdomain(SELF, l), "the other end is not unbound either");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_remotePortOfferedToAnotherDomain_einval(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        fx.guest(3, w, 1);
        int toC = a.d.allocUnbound(SELF, 3);
        assertEquals(EINVAL, b.d.bindInterdomain(1, toC), "offered to dom 3, not dom 2");
        int toB = a.d.allocUnbound(SELF, 2);
        assertEquals(EINVAL, a.d.bindInterdomain(SELF, toB), "loopback to a port offered to dom 2");
        assertEquals(EvtchnStat.UNBOUND, a.status(toB).status());
        assertEquals(1, b.d.allocUnbound(SELF, SELF), "no port consumed in dom 2");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_full_enospcBeforeRemotePortChecks(GuestWidth w) {
        Guest g = guest(w);
        Guest other = fx.guest(2, w, 1);
        int offered = other.d.allocUnbound(SELF, 1);
        g.fill();
        assertAll(
                () -> assertEquals(ENOSPC, g.d.bindInterdomain(SELF, g.limit + 5), "remote port ≥ limit"),
                () -> assertEquals(ENOSPC, g.d.bindInterdomain(SELF, 0), "remote port 0"),
                () -> assertEquals(ENOSPC, g.d.bindInterdomain(SELF, 1), "own port 1 offered to self"),
                () -> assertEquals(ENOSPC, g.d.bindInterdomain(2, offered), "a good offer from dom 2"),
                () -> assertEquals(ESRCH, g.d.bindInterdomain(77, 1), "the domain lookup still comes first"));
        assertEquals(EvtchnStat.UNBOUND, other.status(offered).status(), "the offer stays unbound");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_loopback_bothEndsInterdomainPointingAtEachOther(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        assertEquals(2, l, "lowest free port");
        PortStatus su = g.status(u);
        PortStatus sl = g.status(l);
        assertAll(
                () -> assertEquals(EvtchnStat.INTERDOMAIN, su.status()),
                () -> assertEquals(1, su.remoteDom()),
                () -> assertEquals(l, su.remotePort()),
                () -> assertEquals(EvtchnStat.INTERDOMAIN, sl.status()),
                () -> assertEquals(1, sl.remoteDom()),
                () -> assertEquals(u, sl.remotePort()));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_ownIdAsRemoteDom_sameAsLoopback(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, 1);
        int l = g.d.bindInterdomain(1, u);
        assertEquals(2, l);
        assertEquals(EvtchnStat.INTERDOMAIN, g.status(u).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_newLocalPortSetPending_remoteEndNot(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        assertTrue(g.pending(l), "the new local port is set pending (Xen)");
        assertFalse(g.pending(u), "the remote end is not");
        g.assertDelivered(l, 0);
        assertEquals(1, g.upcalls(0), "one upcall for the new port");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_twoGuests_connected(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        b.d.allocUnbound(SELF, SELF); // make the ports differ between the two domains
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(1, pa);
        assertEquals(2, pb);
        PortStatus sa = a.status(pa);
        PortStatus sb = b.status(pb);
        assertAll(
                () -> assertEquals(EvtchnStat.INTERDOMAIN, sa.status()),
                () -> assertEquals(2, sa.remoteDom()),
                () -> assertEquals(pb, sa.remotePort()),
                () -> assertEquals(EvtchnStat.INTERDOMAIN, sb.status()),
                () -> assertEquals(1, sb.remoteDom()),
                () -> assertEquals(pa, sb.remotePort()));
        assertTrue(b.pending(pb), "binder's new port pending");
        assertFalse(a.anyPending(), "nothing pending in the offering domain");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_twoGuests_sendSetsPeerPendingInOtherDomainOnly(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        b.d.allocUnbound(SELF, SELF);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        b.guestAcknowledges(0, pb);
        long bUpcalls = b.upcalls(0);

        assertEquals(0, a.d.send(pa));
        assertTrue(b.pending(pb), "B's end pending");
        b.assertDelivered(pb, 0);
        assertEquals(bUpcalls + 1, b.upcalls(0));
        assertFalse(a.anyPending(), "nothing pending in A's shared_info");
        assertEquals(0, a.totalUpcalls());

        b.guestAcknowledges(0, pb);
        assertEquals(0, b.d.send(pb));
        a.assertDelivered(pa, 0);
        assertEquals(1, a.upcalls(0));
        assertFalse(b.anyPending(), "nothing pending in B's shared_info");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_mixedWidthGuests_sendCrossesWidths(GuestWidth w) {
        GuestWidth otherWidth = w == GuestWidth.X86_64 ? GuestWidth.X86_32 : GuestWidth.X86_64;
        Guest a = guest(w);
        Guest b = fx.guest(2, otherWidth, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        b.guestAcknowledges(0, pb);
        assertEquals(0, a.d.send(pa));
        b.assertDelivered(pb, 0);
        assertEquals(0, b.d.send(pb));
        a.assertDelivered(pa, 0);
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_toHostDomain0WithoutOffer_einval(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(EINVAL, g.d.bindInterdomain(0, 1), "the host domain exists but offers nothing");
    }

    // ---- bind_virq ----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_virqAtOrAbove24_einval(GuestWidth w) {
        Guest g = guest(w);
        assertAll(
                () -> assertEquals(EINVAL, g.d.bindVirq(24, 0)),
                () -> assertEquals(EINVAL, g.d.bindVirq(100, 0)),
                () -> assertEquals(EINVAL, g.d.bindVirq(0xFFFFFFFF, 0), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.bindVirq(Integer.MIN_VALUE, 0), "u32 0x80000000"));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_globalVirqOnVcpuNot0_einval(GuestWidth w) {
        Guest g = guest(w);
        assertAll(
                () -> assertEquals(EINVAL, g.d.bindVirq(CONSOLE, 1), "CONSOLE"),
                () -> assertEquals(EINVAL, g.d.bindVirq(UNASSIGNED_5, 1), "unassigned 5"),
                () -> assertEquals(EINVAL, g.d.bindVirq(ARCH_0, 1), "ARCH_0"),
                () -> assertEquals(EINVAL, g.d.bindVirq(CONSOLE, 99), "vcpu that does not exist: EINVAL before ENOENT"));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_perDomainArgoOnVcpuNot0_einval(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(EINVAL, g.d.bindVirq(ARGO, 1));
        int p = g.d.bindVirq(ARGO, 0);
        assertEquals(1, p, "ARGO on vCPU 0 binds");
        assertEquals(ARGO, g.status(p).virq());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_globalVirqOnVcpu0_binds(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(1, g.d.bindVirq(CONSOLE, 0));
        assertEquals(2, g.d.bindVirq(UNASSIGNED_5, 0));
        PortStatus st = g.status(1);
        assertEquals(EvtchnStat.VIRQ, st.status());
        assertEquals(CONSOLE, st.virq());
        assertEquals(0, st.vcpu());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_perVcpuVirqOnMissingVcpu_enoent(GuestWidth w) {
        Guest g = guest(w);
        assertAll(
                () -> assertEquals(ENOENT, g.d.bindVirq(TIMER, 2), "vCPU 2 of 2"),
                () -> assertEquals(ENOENT, g.d.bindVirq(TIMER, 1000)),
                () -> assertEquals(ENOENT, g.d.bindVirq(TIMER, -1), "u32 0xFFFFFFFF"));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_sameVirqTwiceOnSameVcpu_eexist(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(1, g.d.bindVirq(TIMER, 0));
        assertEquals(EEXIST, g.d.bindVirq(TIMER, 0));
        assertEquals(2, g.d.bindVirq(CONSOLE, 0));
        assertEquals(EEXIST, g.d.bindVirq(CONSOLE, 0));
        assertEquals(3, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_timerOnVcpu0AndVcpu1_bothBind(GuestWidth w) {
        Guest g = guest(w);
        int p0 = g.d.bindVirq(TIMER, 0);
        int p1 = g.d.bindVirq(TIMER, 1);
        assertEquals(1, p0);
        assertEquals(2, p1);
        assertEquals(0, g.status(p0).vcpu());
        assertEquals(1, g.status(p1).vcpu());
        assertEquals(TIMER, g.status(p1).virq());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_full_enospc(GuestWidth w) {
        Guest g = guest(w);
        g.fill();
        assertEquals(ENOSPC, g.d.bindVirq(TIMER, 0));
        assertEquals(ENOSPC, g.d.bindVirq(CONSOLE, 0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_alreadyBoundWhenFull_eexistBeforeEnospc(GuestWidth w) {
        Guest g = guest(w);
        g.d.bindVirq(TIMER, 0);
        g.fill();
        assertEquals(EEXIST, g.d.bindVirq(TIMER, 0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_afterClose_canBindAgain(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(TIMER, 1);
        assertEquals(0, g.d.close(p));
        assertEquals(p, g.d.bindVirq(TIMER, 1));
        int c = g.d.bindVirq(CONSOLE, 0);
        assertEquals(0, g.d.close(c));
        assertEquals(c, g.d.bindVirq(CONSOLE, 0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void raiseVirq_bound_setsPortPendingAndReturnsTrue(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        int p0 = g.d.bindVirq(TIMER, 0);
        int p1 = g.d.bindVirq(TIMER, 1);
        assertTrue(g.d.raiseVirq(TIMER, 1));
        g.assertDelivered(p1, 1);
        assertFalse(g.pending(p0), "vCPU 0's timer is not raised");
        assertEquals(1, g.upcalls(1));
        assertEquals(0, g.upcalls(0));
        assertTrue(g.d.raiseVirq(TIMER, 0));
        g.assertDelivered(p0, 0);
        assertEquals(1, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void raiseVirq_notBound_returnsFalseNothingPending(GuestWidth w) {
        Guest g = guest(w);
        g.d.bindVirq(TIMER, 0);
        assertFalse(g.d.raiseVirq(TIMER, 1), "TIMER not bound on vCPU 1");
        assertFalse(g.d.raiseVirq(CONSOLE, 0), "CONSOLE not bound");
        assertFalse(g.anyPending());
        assertEquals(0, g.totalUpcalls());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void raiseVirq_afterClose_returnsFalse(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(TIMER, 0);
        assertEquals(0, g.d.close(p));
        assertFalse(g.d.raiseVirq(TIMER, 0));
        int u = g.d.allocUnbound(SELF, SELF);
        assertEquals(p, u, "the port is reused by an unbound port");
        assertFalse(g.d.raiseVirq(TIMER, 0), "the stale VIRQ mapping does not raise the new owner");
        assertFalse(g.pending(u));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void raiseVirq_globalVirq_deliversOnVcpu0(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(CONSOLE, 0);
        assertTrue(g.d.raiseVirq(CONSOLE, 0));
        g.assertDelivered(p, 0);
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void raiseVirq_globalVirqWithAnyVcpuArgument_raisesTheOneBinding(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(CONSOLE, 0);
        assertTrue(g.d.raiseVirq(CONSOLE, 1), "a global VIRQ has one binding, on vCPU 0's table");
        g.assertDelivered(p, 0);
        assertEquals(1, g.upcalls(0));
        assertEquals(0, g.upcalls(1));
    }

    // ---- bind_ipi -------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindIpi_noSuchVcpu_enoent(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(ENOENT, g.d.bindIpi(2));
        assertEquals(ENOENT, g.d.bindIpi(-1), "u32 0xFFFFFFFF");
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindIpi_full_enospc(GuestWidth w) {
        Guest g = guest(w);
        g.fill();
        assertEquals(ENOSPC, g.d.bindIpi(0));
        assertEquals(ENOENT, g.d.bindIpi(5), "the vCPU check comes first");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindIpi_statusIsIpiOnItsVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(1);
        assertEquals(1, p);
        assertEquals(EvtchnStat.IPI, g.status(p).status());
        assertEquals(1, g.status(p).vcpu());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindIpi_send_setsOwnPortPendingWithUpcallToItsVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(1);
        assertEquals(0, g.d.send(p));
        g.assertDelivered(p, 1);
        assertEquals(1, g.upcalls(1));
        assertEquals(0, g.upcalls(0));
        assertEquals(0, g.pendingSel(0), "vCPU 0's pending_sel untouched");
        assertEquals(0, g.upcallPending(0), "vCPU 0's upcall_pending untouched");
    }

    // ---- bind_pirq ------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindPirq_enosys(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(ENOSYS, g.d.bindPirq(1, 0));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "no port consumed");
    }

    // ---- 32-bit limit -----------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void portLimit_isReferenceLimit(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(g.limit, g.d.portLimit());
    }

    @Test
    void x86_32_everyBindKindUntilFull_highestPortIs1023() {
        Guest g = fx.guest(1, GuestWidth.X86_32, 2);
        int max = 0;
        int count = 0;
        for (int i = 0;; i++) {
            int p = switch (i % 4) {
                case 0 -> g.d.allocUnbound(SELF, SELF);
                case 1 -> g.d.bindIpi(i % 2);
                case 2 -> {
                    int u = g.d.allocUnbound(SELF, SELF);
                    if (u > 0) {
                        assertTrue(u < 1024, "port " + u + " of a 32-bit guest");
                        max = Math.max(max, u);
                    }
                    yield u < 0 ? u : g.d.bindInterdomain(SELF, u);
                }
                default -> g.d.bindIpi(0);
            };
            if (p < 0) {
                assertEquals(ENOSPC, p);
                break;
            }
            assertTrue(p < 1024, "port " + p + " of a 32-bit guest");
            max = Math.max(max, p);
            count++;
            assertTrue(count < 2000, "never full");
        }
        assertEquals(1023, max);
        assertAll(
                () -> assertEquals(ENOSPC, g.d.allocUnbound(SELF, SELF)),
                () -> assertEquals(ENOSPC, g.d.bindIpi(0)),
                () -> assertEquals(ENOSPC, g.d.bindVirq(TIMER, 0)),
                () -> assertEquals(ENOSPC, g.d.bindInterdomain(SELF, 1)));
        assertEquals(EINVAL, g.d.status(SELF, 1024).error(), "port 1024 is not a 32-bit guest's");
        assertEquals(EINVAL, g.d.close(1024));
    }
}
