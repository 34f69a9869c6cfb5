package xen.evtchn.impl.port;

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
public final class PortEntry {
    public static final int FREE = EvtchnStat.CLOSED;
    public static final int UNBOUND = EvtchnStat.UNBOUND;
    public static final int INTERDOMAIN = EvtchnStat.INTERDOMAIN;
    public static final int PIRQ = EvtchnStat.PIRQ;
    public static final int VIRQ = EvtchnStat.VIRQ;
    public static final int IPI = EvtchnStat.IPI;
    /** Port 0: never allocated, reported as closed. */
    public static final int RESERVED = 6;

    public static final long FREE_ENTRY = 0L;
    public static final long RESERVED_ENTRY = RESERVED;

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

    public static long of(int type, int vcpu, int dom, int port) {
        return type | (vcpu & U16) << VCPU_SHIFT | (dom & U16) << DOM_SHIFT | (port & PORT_MASK) << PORT_SHIFT;
    }

    public static long unbound(int vcpu, int remoteDom) {
        return of(UNBOUND, vcpu, remoteDom, 0);
    }

    public static long interdomain(int vcpu, int remoteDom, int remotePort) {
        return of(INTERDOMAIN, vcpu, remoteDom, remotePort);
    }

    public static long virq(int vcpu, int virq) {
        return of(VIRQ, vcpu, virq, 0);
    }

    public static long ipi(int vcpu) {
        return of(IPI, vcpu, 0, 0);
    }

    public static int type(long e) {
        return (int) (e & TYPE_MASK);
    }

    public static int vcpu(long e) {
        return (int) (e >>> VCPU_SHIFT & U16);
    }

    /** Remote domid of an UNBOUND or INTERDOMAIN entry. */
    public static int remoteDom(long e) {
        return (int) (e >>> DOM_SHIFT & U16);
    }

    public static int virqNumber(long e) {
        return remoteDom(e);
    }

    /** Remote port of an INTERDOMAIN entry. */
    public static int remotePort(long e) {
        return (int) (e >>> PORT_SHIFT & PORT_MASK);
    }

    public static int pirq(long e) {
        return remotePort(e);
    }

    /** True for a port that is in use (neither free nor the reserved port 0). */
    public static boolean isBound(long e) {
        int t = type(e);
        return t != FREE && t != RESERVED;
    }

    /** True if {@code e} is an interdomain entry connected to {@code dom}:{@code port}. */
    public static boolean connectsTo(long e, int dom, int port) {
        return type(e) == INTERDOMAIN && remoteDom(e) == dom && remotePort(e) == port;
    }

    /** True if {@code e} has this type and this domid/VIRQ field (0 for an IPI). */
    public static boolean is(long e, int type, int domField) {
        return type(e) == type && remoteDom(e) == domField;
    }

    public static long withVcpu(long e, int vcpu) {
        return e & ~(U16 << VCPU_SHIFT) | (vcpu & U16) << VCPU_SHIFT;
    }

    public static int priority(long e) {
        return (int) ((e & PRIORITY_MASK) >>> PRIORITY_SHIFT);
    }

    public static long withPriority(long e, int priority) {
        return e & ~PRIORITY_MASK | (long) priority << PRIORITY_SHIFT;
    }

    /** {@code binding} (a new type, vCPU, peer) with the priority {@code old} had. */
    public static long rebound(long old, long binding) {
        return old & PRIORITY_MASK | binding & BINDING_MASK;
    }

    /** EVTCHNSTAT for this entry. */
    public static int status(long e) {
        int t = type(e);
        return t == RESERVED ? EvtchnStat.CLOSED : t;
    }
}
