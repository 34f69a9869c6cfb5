package xen.evtchn.impl.evtchn;

import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.impl.port.PortEntry;

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
public record PortImage(int port, int type, int vcpu, int remoteDom, int remotePort, int virq, int priority) {
    public static PortImage unbound(int port, int vcpu, int remoteDom) {
        return new PortImage(port, EvtchnStat.UNBOUND, vcpu, remoteDom, 0, 0, 0);
    }

    public static PortImage interdomain(int port, int vcpu, int remoteDom, int remotePort) {
        return new PortImage(port, EvtchnStat.INTERDOMAIN, vcpu, remoteDom, remotePort, 0, 0);
    }

    public static PortImage virq(int port, int vcpu, int virq) {
        return new PortImage(port, EvtchnStat.VIRQ, vcpu, 0, 0, virq, 0);
    }

    public static PortImage ipi(int port, int vcpu) {
        return new PortImage(port, EvtchnStat.IPI, vcpu, 0, 0, 0, 0);
    }

    public PortImage withPriority(int p) {
        return new PortImage(port, type, vcpu, remoteDom, remotePort, virq, p);
    }

    /** The port's entry as values; its priority only under FIFO (2-level keeps none). */
    static PortImage of(int port, long entry, boolean fifo) {
        int vcpu = PortEntry.vcpu(entry);
        PortImage p = switch (PortEntry.type(entry)) {
            case PortEntry.UNBOUND -> unbound(port, vcpu, PortEntry.remoteDom(entry));
            case PortEntry.INTERDOMAIN -> interdomain(port, vcpu, PortEntry.remoteDom(entry), PortEntry.remotePort(entry));
            case PortEntry.VIRQ -> virq(port, vcpu, PortEntry.virqNumber(entry));
            case PortEntry.IPI -> ipi(port, vcpu);
            default -> throw new IllegalArgumentException("port " + port + " cannot be saved: " + EvtchnStat.name(PortEntry.status(entry)));
        };
        return fifo ? p.withPriority(PortEntry.priority(entry)) : p;
    }
}
