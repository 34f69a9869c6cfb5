package xen.evtchn.impl.save;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.evtchn.PortImage;

/**
 * A FIFO domain's state beyond guest memory: control blocks, array pages, priorities other than
 * 7, queue tails, ports raised before their page. Only under the FIFO ABI.
 */
final class FifoRecord {
    private FifoRecord() {
    }

    static boolean applies(DomainImage image) {
        return image.events().domain().fifo() != null;
    }

    static void write(StreamWriter w, DomainImage image) {
        EventChannelImage ev = image.events().domain();
        FifoImage fifo = ev.fifo();
        for (long at : fifo.controlBlockAt()) {
            w.varint(at + 1);
        }
        w.varint(fifo.arrayPageGfns().length);
        for (long gfn : fifo.arrayPageGfns()) {
            w.varint(gfn);
        }
        List<PortImage> other = new ArrayList<>();
        for (PortImage p : ev.ports()) {
            if (p.priority() != EvtchnFifo.PRIORITY_DEFAULT) {
                other.add(p);
            }
        }
        w.varint(other.size());
        int previous = 0;
        for (PortImage p : other) {
            w.varint(p.port() - previous);
            previous = p.port();
            w.u8(p.priority());
        }
        int tails = 0;
        for (int t : fifo.tails()) {
            tails += t != 0 ? 1 : 0;
        }
        BitSet moved = new BitSet();
        for (int q : fifo.movedTails()) {
            moved.set(q);
        }
        w.varint(tails);
        for (int q = 0; q < fifo.tails().length; q++) {
            if (fifo.tails()[q] != 0) {
                w.varint(q);
                w.varint(fifo.tails()[q]);
                w.u8(moved.get(q) ? 1 : 0);
            }
        }
        w.varint(fifo.pendingWithoutPage().length);
        previous = 0;
        for (int port : fifo.pendingWithoutPage()) {
            w.varint(port - previous);
            previous = port;
        }
    }

    /** Sets the ports' priorities in {@code parts.byPort} (7 unless it says otherwise) too. */
    static void read(StreamReader r, ImageParts parts) {
        int vcpus = parts.vcpus;
        int validPorts = parts.validPorts;
        PortImage[] byPort = parts.byPort;
        long[] controlAt = VcpusRecord.placements(r, vcpus, "FIFO control block", EvtchnFifo.CONTROL_BLOCK_SIZE);
        long[] pages = new long[r.varint32("event array page count", EvtchnFifo.MAX_PAGES)];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = r.varint("event array frame", Long.MAX_VALUE / GuestMemory.PAGE_SIZE);
        }
        for (int p = 1; p < byPort.length; p++) {
            if (byPort[p] != null) {
                byPort[p] = byPort[p].withPriority(EvtchnFifo.PRIORITY_DEFAULT);
            }
        }
        int count = r.varint32("priority count", validPorts);
        int port = 0;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            port += r.varint32("priority's port step", 1, validPorts);
            if (port >= validPorts || byPort[port] == null) {
                throw r.bad(at, "a priority for port " + port + ", which is not in use");
            }
            at = r.position();
            int priority = r.u8("port " + port + "'s priority");
            if (priority > EvtchnFifo.PRIORITY_MIN) {
                throw r.bad(at, "port " + port + "'s priority " + priority + " is above " + EvtchnFifo.PRIORITY_MIN);
            }
            byPort[port] = byPort[port].withPriority(priority);
        }
        int queues = vcpus * EvtchnFifo.MAX_QUEUES;
        int[] tails = new int[queues];
        BitSet moved = new BitSet();
        count = r.varint32("queue tail count", queues);
        int last = -1;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            int q = r.varint32("queue", queues - 1);
            if (q <= last) {
                throw r.bad(at, "queue " + q + " is out of order or repeated");
            }
            last = q;
            tails[q] = r.varint32("queue " + q + "'s tail port", 1, validPorts - 1);
            at = r.position();
            int flag = r.u8("queue " + q + "'s moved flag");
            if (flag > 1) {
                throw r.bad(at, "a moved flag is 0 or 1, not " + flag);
            }
            if (flag == 1) {
                moved.set(q);
            }
        }
        count = r.varint32("count of ports raised before their page", validPorts);
        int[] early = new int[count];
        port = 0;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            port += r.varint32("port step", 1, validPorts);
            if (port >= validPorts || byPort[port] == null || port < pages.length * EvtchnFifo.WORDS_PER_PAGE) {
                throw r.bad(at, "port " + port + " raised before its page must be in use and beyond the "
                        + pages.length + " array pages");
            }
            early[i] = port;
        }
        parts.fifoState = new FifoImage(controlAt, pages, tails, moved.stream().toArray(), early);
    }
}
