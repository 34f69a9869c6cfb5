package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EINVAL;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EPERM;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ESRCH;
import static xen.evtchn.impl.evtchn.EvtchnFixture.SELF;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/** close, send, status: every case of xen-abi.md, both widths. */
class CloseSendStatusTest extends EvtchnTestBase {
    private static final int TIMER = 0;
    private static final int CONSOLE = 2;

    // ---- close ---------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_port0_einval(GuestWidth w) {
        Guest g = guest(w);
        assertEquals(EINVAL, g.d.close(0), "fresh domain");
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.close(0), "after an allocation");
        assertEquals(EvtchnStat.CLOSED, g.status(0).status());
        assertEquals(2, g.d.allocUnbound(SELF, SELF), "port 0 never allocated");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_freePort_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.close(2), "valid, never bound");
        assertEquals(EINVAL, g.d.close(63), "last port of the first bucket");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_portAtOrAboveLimitOrHugeU32_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertAll(
                () -> assertEquals(EINVAL, g.d.close(g.limit)),
                () -> assertEquals(EINVAL, g.d.close(g.limit + 1)),
                () -> assertEquals(EINVAL, g.d.close(-1), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.close(Integer.MIN_VALUE), "u32 0x80000000"),
                () -> assertEquals(EINVAL, g.d.close(Integer.MAX_VALUE)));
        assertEquals(EvtchnStat.UNBOUND, g.status(1).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_neverValidPort_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.d.close(500));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_boundPort_freesIt_statusClosed(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int v = g.d.bindVirq(TIMER, 1);
        int i = g.d.bindIpi(1);
        for (int p : new int[] {u, v, i}) {
            assertEquals(0, g.d.close(p), "close " + p);
            PortStatus st = g.status(p);
            assertEquals(0, st.error());
            assertEquals(EvtchnStat.CLOSED, st.status(), "port " + p + " closed");
        }
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "freed ports are allocated again");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_clearsPendingBit(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.d.send(p);
        assertTrue(g.pending(p));
        assertEquals(0, g.d.close(p));
        assertFalse(g.pending(p), "close clears the pending bit");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_interdomainEnd_peerInOtherDomainReturnsToUnboundWithRemoteCloser(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(0, b.d.close(pb));
        assertEquals(EvtchnStat.CLOSED, b.status(pb).status());
        PortStatus sa = a.status(pa);
        assertEquals(EvtchnStat.UNBOUND, sa.status(), "A's end back to unbound");
        assertEquals(2, sa.remoteDom(), "offered to the closer");
        assertEquals(pb, b.d.bindInterdomain(1, pa), "B can bind to it again");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_offeringEnd_peerReturnsToUnboundWithRemoteCloser(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(0, a.d.close(pa));
        PortStatus sb = b.status(pb);
        assertEquals(EvtchnStat.UNBOUND, sb.status());
        assertEquals(1, sb.remoteDom());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_loopbackEnd_peerReturnsToUnboundRemoteOwnId(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        assertEquals(0, g.d.close(l));
        PortStatus su = g.status(u);
        assertEquals(EvtchnStat.UNBOUND, su.status());
        assertEquals(1, su.remoteDom());
        assertFalse(g.pending(l), "the closed end's pending bit (set by the bind) is cleared");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_twice_einval(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        assertEquals(0, g.d.close(p));
        assertEquals(EINVAL, g.d.close(p));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void close_highestPort_works(GuestWidth w) {
        Guest g = guest(w);
        g.fill();
        assertEquals(0, g.d.close(g.limit - 1));
        assertEquals(EvtchnStat.CLOSED, g.status(g.limit - 1).status());
        assertEquals(g.limit - 1, g.d.bindIpi(0));
    }

    // ---- send ----------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_invalidPort_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.bindIpi(0);
        assertAll(
                () -> assertEquals(EINVAL, g.d.send(g.limit)),
                () -> assertEquals(EINVAL, g.d.send(-1), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.d.send(Integer.MIN_VALUE)),
                () -> assertEquals(EINVAL, g.d.send(500), "never valid"),
                () -> assertEquals(EINVAL, g.d.send(0), "reserved port 0"));
        assertFalse(g.anyPending());
        assertEquals(0, g.totalUpcalls());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_unboundPort_returns0NothingPending(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        int q = g.d.allocUnbound(SELF, 0);
        assertEquals(0, g.d.send(p));
        assertEquals(0, g.d.send(q));
        assertFalse(g.anyPending(), "dropped: nothing pending");
        assertEquals(0, g.totalUpcalls());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_virqPort_einval(GuestWidth w) {
        Guest g = guest(w);
        int t = g.d.bindVirq(TIMER, 0);
        int c = g.d.bindVirq(CONSOLE, 0);
        assertEquals(EINVAL, g.d.send(t));
        assertEquals(EINVAL, g.d.send(c));
        assertFalse(g.anyPending());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_freePort_einval(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        assertEquals(EINVAL, g.d.send(p + 1), "valid, never bound");
        assertEquals(0, g.d.close(p));
        assertEquals(EINVAL, g.d.send(p), "closed");
        assertFalse(g.anyPending());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_interdomain_peerPending(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        int l = g.d.bindInterdomain(SELF, u);
        g.guestAcknowledges(0, l);
        assertEquals(0, g.d.send(l));
        g.assertDelivered(u, 0);
        assertFalse(g.pending(l), "the sender's own end is not raised");
        g.guestAcknowledges(0, u);
        assertEquals(0, g.d.send(u));
        g.assertDelivered(l, 0);
        assertFalse(g.pending(u));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_interdomain_peerPendingOnPeersVcpu(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 2);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        b.guestAcknowledges(0, pb);
        assertEquals(0, b.d.bindVcpu(pb, 1));
        assertEquals(0, a.d.send(pa));
        b.assertDelivered(pb, 1);
        assertEquals(1, b.upcalls(1));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_ipi_ownPortPending(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        assertEquals(0, g.d.send(p));
        g.assertDelivered(p, 0);
        assertEquals(1, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void send_afterPeerClosed_unbound_returns0NothingPending(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(0, b.d.close(pb));
        assertEquals(0, a.d.send(pa), "A's end is unbound again: dropped");
        assertFalse(a.anyPending());
        assertFalse(b.anyPending());
    }

    // ---- status --------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_otherExistingDomain_eperm(GuestWidth w) {
        Guest g = guest(w);
        Guest other = fx.guest(2, w, 1);
        other.d.allocUnbound(SELF, SELF);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EPERM, g.d.status(2, 1).error(), "another guest");
        assertEquals(EPERM, g.d.status(0, 1).error(), "the host domain 0");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_nonexistentDomain_esrch(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(ESRCH, g.d.status(77, 1).error());
        assertEquals(ESRCH, g.d.status(0x7FF1, 1).error());
        assertEquals(ESRCH, g.d.status(0xFFFF, 1).error());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_portAtOrAboveLimit_einval(GuestWidth w) {
        Guest g = guest(w);
        g.fill();
        assertAll(
                () -> assertEquals(EINVAL, g.status(g.limit).error()),
                () -> assertEquals(EINVAL, g.status(g.limit + 64).error()),
                () -> assertEquals(EINVAL, g.status(-1).error(), "u32 0xFFFFFFFF"),
                () -> assertEquals(EINVAL, g.status(Integer.MIN_VALUE).error()));
        assertEquals(EvtchnStat.UNBOUND, g.status(g.limit - 1).status(), "the last port is fine");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_neverValidPort_einval(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        assertEquals(EINVAL, g.status(500).error());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_port0_closed(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        PortStatus st = g.status(0);
        assertEquals(0, st.error());
        assertEquals(EvtchnStat.CLOSED, st.status());
    }

    /**
     * Xen's evtchn_init makes the first bucket valid (and port 0 reserved) when the domain is
     * created, so port 0 — and every port of bucket 0 — reports closed even before the guest
     * allocated any port.
     */
    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_port0_freshDomain_closed(GuestWidth w) {
        Guest g = guest(w);
        PortStatus st = g.status(0);
        assertEquals(0, st.error(), "status(0) on a domain that allocated nothing: " + st);
        assertEquals(EvtchnStat.CLOSED, st.status());
        assertEquals(0, g.status(1).error(), "port 1 is in bucket 0, valid from creation");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_freeValidPort_closed(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, SELF);
        PortStatus st = g.status(2);
        assertEquals(0, st.error());
        assertEquals(EvtchnStat.CLOSED, st.status());
        assertEquals(EvtchnStat.CLOSED, g.status(63).status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_ownDomid_sameAsSelf(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, 0);
        PortStatus st = g.d.status(1, p);
        assertEquals(0, st.error());
        assertEquals(EvtchnStat.UNBOUND, st.status());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_unbound_reportsRemoteDomAndVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, 0);
        assertEquals(0, g.d.bindVcpu(p, 1));
        PortStatus st = g.status(p);
        assertAll(
                () -> assertEquals(0, st.error()),
                () -> assertEquals(EvtchnStat.UNBOUND, st.status()),
                () -> assertEquals(1, st.vcpu()),
                () -> assertEquals(0, st.remoteDom()),
                () -> assertEquals(0, st.unionA()),
                () -> assertEquals(0, st.unionB()));
        int q = g.d.allocUnbound(SELF, 0x1234);
        assertEquals(0x1234, g.status(q).remoteDom());
        assertEquals(0x1234, g.status(q).unionA());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_interdomain_reportsDomAndPort(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        b.d.allocUnbound(SELF, SELF);
        b.d.allocUnbound(SELF, SELF);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        PortStatus st = a.status(pa);
        assertAll(
                () -> assertEquals(EvtchnStat.INTERDOMAIN, st.status()),
                () -> assertEquals(0, st.vcpu()),
                () -> assertEquals(2, st.remoteDom()),
                () -> assertEquals(3, st.remotePort()),
                () -> assertEquals(2, st.unionA()),
                () -> assertEquals(pb, st.unionB()));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_virq_reportsVirqNumberAndVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindVirq(TIMER, 1);
        int c = g.d.bindVirq(CONSOLE, 0);
        PortStatus st = g.status(p);
        assertAll(
                () -> assertEquals(EvtchnStat.VIRQ, st.status()),
                () -> assertEquals(1, st.vcpu()),
                () -> assertEquals(TIMER, st.virq()),
                () -> assertEquals(TIMER, st.unionA()),
                () -> assertEquals(CONSOLE, g.status(c).virq()),
                () -> assertEquals(CONSOLE, g.status(c).unionA()),
                () -> assertEquals(0, g.status(c).vcpu()));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_ipi_reportsVcpu(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(1);
        PortStatus st = g.status(p);
        assertEquals(EvtchnStat.IPI, st.status());
        assertEquals(1, st.vcpu());
        assertEquals(0, st.unionA());
        assertEquals(0, st.unionB());
    }
}
