package xen.evtchn.impl.save;

import java.util.BitSet;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.VirqKind;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.evtchn.PortImage;

/**
 * The event channels: the ABI (version 3 only: versions 1 and 2 say it by their number), the
 * ports valid so far and every port in use. FIFO priorities are in {@link FifoRecord}.
 */
final class PortsRecord {
    static final int ABI_TWO_LEVEL = 1;
    static final int ABI_FIFO = 2;
    /** The highest port number a peer domain may have (FIFO's limit). */
    static final int PORT_BITS_MAX = (1 << 17) - 1;

    private PortsRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        EventChannelImage ev = image.events().domain();
        w.u8(ev.fifo() == null ? ABI_TWO_LEVEL : ABI_FIFO);
        writePorts(w, ev);
    }

    private static void writePorts(StreamWriter w, EventChannelImage ev) {
        w.varint(ev.validPorts());
        w.varint(ev.ports().size());
        int previous = 0;
        for (PortImage p : ev.ports()) {
            w.varint(p.port() - previous);
            previous = p.port();
            w.u8(p.type());
            w.varint(p.vcpu());
            switch (p.type()) {
                case EvtchnStat.UNBOUND -> w.varint(p.remoteDom());
                case EvtchnStat.INTERDOMAIN -> {
                    w.varint(p.remoteDom());
                    w.varint(p.remotePort());
                }
                case EvtchnStat.VIRQ -> w.varint(p.virq());
                default -> {
                }
            }
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        int at = r.position();
        parts.fifo = switch (r.u8("event ABI")) {
            case ABI_TWO_LEVEL -> false;
            case ABI_FIFO -> true;
            default -> throw r.bad(at, "event ABI is neither 1 (2-level) nor 2 (FIFO)");
        };
        readPorts(r, parts);
    }

    /** The valid ports and the ports, ascending; every field in range, the VIRQ table they imply without a clash, loops closed. */
    static void readPorts(StreamReader r, ImageParts parts) {
        int at = r.position();
        // Beyond 2-level's limit also under 2-level: a domain reset from FIFO keeps its valid ports (XSA-338).
        int validPorts = r.varint32("valid ports", 64, EvtchnFifo.NR_CHANNELS);
        if (validPorts % 64 != 0) {
            throw r.bad(at, "valid ports (" + validPorts + ") is not a multiple of 64");
        }
        int domid = parts.domid;
        int vcpus = parts.vcpus;
        int limit = parts.fifo ? EvtchnFifo.NR_CHANNELS : parts.width.twoLevelPorts();
        int count = r.varint32("port count", validPorts - 1);
        PortImage[] byPort = new PortImage[validPorts];
        BitSet virqSlots = new BitSet();
        int port = 0;
        for (int i = 0; i < count; i++) {
            r.aboutNothing();
            at = r.position();
            port += r.varint32("port number step", 1, validPorts);
            if (port >= validPorts || port >= limit) {
                throw r.bad(at, "port " + port + " is not below the valid ports (" + validPorts + ") and the ABI's limit ("
                        + limit + ")");
            }
            r.about("port ", port);
            at = r.position();
            int type = r.u8("type");
            int vcpu = r.varint32("vCPU", vcpus - 1);
            byPort[port] = switch (type) {
                // Any domid_t: Xen's alloc_unbound stores whatever domain the guest offers the port to.
                case EvtchnStat.UNBOUND -> PortImage.unbound(port, vcpu, r.varint32("remote domain", 0xFFFF));
                case EvtchnStat.INTERDOMAIN -> {
                    int remote = r.varint32("peer domain", DomId.FIRST_RESERVED - 1);
                    int max = remote == DomId.HOST ? Domains.HOST_PORTS - 1 : remote == domid ? validPorts - 1 : PORT_BITS_MAX;
                    yield PortImage.interdomain(port, vcpu, remote, r.varint32("peer port", 1, max));
                }
                case EvtchnStat.VIRQ -> {
                    int vat = r.position();
                    int virq = r.varint32("VIRQ", Virq.COUNT - 1);
                    VirqKind kind = Virq.kindOf(virq);
                    int slot = (kind == VirqKind.PER_VCPU ? vcpu : 0) * Virq.COUNT + virq;
                    if (virqSlots.get(slot)) {
                        throw r.bad(vat, "VIRQ " + virq + " is bound twice" + (kind == VirqKind.PER_VCPU ? " on vCPU " + vcpu : ""));
                    }
                    virqSlots.set(slot);
                    yield PortImage.virq(port, vcpu, virq);
                }
                case EvtchnStat.IPI -> PortImage.ipi(port, vcpu);
                default -> throw r.bad(at, "type " + type + " is not unbound (1), interdomain (2), VIRQ (4) or IPI (5)");
            };
        }
        r.aboutNothing();
        for (PortImage p : byPort) {
            if (p != null && p.type() == EvtchnStat.INTERDOMAIN && p.remoteDom() == domid) {
                PortImage other = byPort[p.remotePort()];
                if (other == null || other.type() != EvtchnStat.INTERDOMAIN || other.remoteDom() != domid
                        || other.remotePort() != p.port()) {
                    throw r.bad(r.position(), "port " + p.port() + " is connected to the domain's own port "
                            + p.remotePort() + ", which is not connected back");
                }
            }
        }
        parts.validPorts = validPorts;
        parts.byPort = byPort;
    }
}
