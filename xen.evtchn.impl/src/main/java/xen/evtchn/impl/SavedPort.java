package xen.evtchn.impl;

import xen.evtchn.api.abi.EvtchnStat;

/**
 * One port in use, as values: what a save writes for it and a restore binds again.
 *
 * @param port       the port number
 * @param type       EvtchnStat.UNBOUND, INTERDOMAIN, VIRQ or IPI
 * @param vcpu       the vCPU it notifies
 * @param remoteDom  UNBOUND: the domain it is offered to; INTERDOMAIN: the peer domain; else 0
 * @param remotePort INTERDOMAIN: the peer's port; else 0
 * @param virq       VIRQ: the VIRQ number; else 0
 * @param priority   its FIFO priority (0..15; under 2-level unused, 0)
 */
public record SavedPort(int port, int type, int vcpu, int remoteDom, int remotePort, int virq, int priority) {
    public static SavedPort unbound(int port, int vcpu, int remoteDom) {
        return new SavedPort(port, EvtchnStat.UNBOUND, vcpu, remoteDom, 0, 0, 0);
    }

    public static SavedPort interdomain(int port, int vcpu, int remoteDom, int remotePort) {
        return new SavedPort(port, EvtchnStat.INTERDOMAIN, vcpu, remoteDom, remotePort, 0, 0);
    }

    public static SavedPort virq(int port, int vcpu, int virq) {
        return new SavedPort(port, EvtchnStat.VIRQ, vcpu, 0, 0, virq, 0);
    }

    public static SavedPort ipi(int port, int vcpu) {
        return new SavedPort(port, EvtchnStat.IPI, vcpu, 0, 0, 0, 0);
    }

    public SavedPort withPriority(int p) {
        return new SavedPort(port, type, vcpu, remoteDom, remotePort, virq, p);
    }

    /** The port's entry as values; its priority only under FIFO (2-level keeps none). */
    static SavedPort of(int port, long entry, boolean fifo) {
        int vcpu = PortEntry.vcpu(entry);
        SavedPort p = switch (PortEntry.type(entry)) {
            case PortEntry.UNBOUND -> unbound(port, vcpu, PortEntry.remoteDom(entry));
            case PortEntry.INTERDOMAIN -> interdomain(port, vcpu, PortEntry.remoteDom(entry), PortEntry.remotePort(entry));
            case PortEntry.VIRQ -> virq(port, vcpu, PortEntry.virqNumber(entry));
            case PortEntry.IPI -> ipi(port, vcpu);
            default -> throw new IllegalArgumentException("port " + port + " cannot be saved: " + EvtchnStat.name(PortEntry.status(entry)));
        };
        return fifo ? p.withPriority(PortEntry.priority(entry)) : p;
    }
}
