package xen.evtchn.impl;

import xen.evtchn.api.abi.EvtchnStat;

/**
 * A port's whole host-side state packed in one long (8 bytes a port):
 * <pre>
 * bits  0-2   type: FREE, UNBOUND, INTERDOMAIN, PIRQ, VIRQ, IPI (numbered as EVTCHNSTAT), RESERVED
 * bits  3-18  vCPU to notify (for a host-side port: the owning handle)
 * bits 19-34  remote domid (UNBOUND, INTERDOMAIN) or VIRQ number
 * bits 35-51  remote port (INTERDOMAIN) or PIRQ number
 * bits 52-55  FIFO priority (0 highest .. 15), set at bind and by EVTCHNOP_set_priority; unused under 2-level
 * bits 56-63  unused
 * </pre>
 * Rewriting an entry's binding ({@link #rebound}) keeps its priority.
 * A FREE entry is 0, so a fresh table is all free.
 */
final class PortEntry {
    static final int FREE = EvtchnStat.CLOSED;
    static final int UNBOUND = EvtchnStat.UNBOUND;
    static final int INTERDOMAIN = EvtchnStat.INTERDOMAIN;
    static final int PIRQ = EvtchnStat.PIRQ;
    static final int VIRQ = EvtchnStat.VIRQ;
    static final int IPI = EvtchnStat.IPI;
    /** Port 0: never allocated, reported as closed. */
    static final int RESERVED = 6;

    static final long FREE_ENTRY = 0L;
    static final long RESERVED_ENTRY = RESERVED;

    private static final int VCPU_SHIFT = 3;
    private static final int DOM_SHIFT = 19;
    private static final int PORT_SHIFT = 35;
    private static final long TYPE_MASK = 0x7;
    private static final long U16 = 0xFFFF;
    private static final long PORT_MASK = 0x1FFFF;
    private static final int PRIORITY_SHIFT = 52;
    private static final long PRIORITY_MASK = 0xFL << PRIORITY_SHIFT;
    private static final long BINDING_MASK = (1L << PRIORITY_SHIFT) - 1;

    private PortEntry() {
    }

    static long of(int type, int vcpu, int dom, int port) {
        return type | (vcpu & U16) << VCPU_SHIFT | (dom & U16) << DOM_SHIFT | (port & PORT_MASK) << PORT_SHIFT;
    }

    static long unbound(int vcpu, int remoteDom) {
        return of(UNBOUND, vcpu, remoteDom, 0);
    }

    static long interdomain(int vcpu, int remoteDom, int remotePort) {
        return of(INTERDOMAIN, vcpu, remoteDom, remotePort);
    }

    static long virq(int vcpu, int virq) {
        return of(VIRQ, vcpu, virq, 0);
    }

    static long ipi(int vcpu) {
        return of(IPI, vcpu, 0, 0);
    }

    static int type(long e) {
        return (int) (e & TYPE_MASK);
    }

    static int vcpu(long e) {
        return (int) (e >>> VCPU_SHIFT & U16);
    }

    /** Remote domid of an UNBOUND or INTERDOMAIN entry. */
    static int remoteDom(long e) {
        return (int) (e >>> DOM_SHIFT & U16);
    }

    static int virqNumber(long e) {
        return remoteDom(e);
    }

    /** Remote port of an INTERDOMAIN entry. */
    static int remotePort(long e) {
        return (int) (e >>> PORT_SHIFT & PORT_MASK);
    }

    static int pirq(long e) {
        return remotePort(e);
    }

    /** True for a port that is in use (neither free nor the reserved port 0). */
    static boolean isBound(long e) {
        int t = type(e);
        return t != FREE && t != RESERVED;
    }

    /** True if {@code e} is an interdomain entry connected to {@code dom}:{@code port}. */
    static boolean connectsTo(long e, int dom, int port) {
        return type(e) == INTERDOMAIN && remoteDom(e) == dom && remotePort(e) == port;
    }

    /** True if {@code e} has this type and this domid/VIRQ field (0 for an IPI). */
    static boolean is(long e, int type, int domField) {
        return type(e) == type && remoteDom(e) == domField;
    }

    static long withVcpu(long e, int vcpu) {
        return e & ~(U16 << VCPU_SHIFT) | (vcpu & U16) << VCPU_SHIFT;
    }

    static int priority(long e) {
        return (int) ((e & PRIORITY_MASK) >>> PRIORITY_SHIFT);
    }

    static long withPriority(long e, int priority) {
        return e & ~PRIORITY_MASK | (long) priority << PRIORITY_SHIFT;
    }

    /** {@code binding} (a new type, vCPU, peer) with the priority {@code old} had. */
    static long rebound(long old, long binding) {
        return old & PRIORITY_MASK | binding & BINDING_MASK;
    }

    /** EVTCHNSTAT for this entry. */
    static int status(long e) {
        int t = type(e);
        return t == RESERVED ? EvtchnStat.CLOSED : t;
    }
}
