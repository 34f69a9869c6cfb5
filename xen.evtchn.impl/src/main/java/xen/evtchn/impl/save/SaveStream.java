package xen.evtchn.impl.save;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.VirqKind;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.evtchn.BackendImage;
import xen.evtchn.impl.evtchn.DomainEventsImage;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.evtchn.PortImage;
import xen.evtchn.impl.time.TimerState;

/**
 * The save stream: a {@link DomainImage} as bytes, and back. Format version {@value #VERSION_TWO_LEVEL}
 * for a domain on the 2-level ABI, {@value #VERSION_FIFO} (the same, and a FIFO section) for one on
 * the FIFO ABI, so that a 2-level domain's stream still reads where only version 1 does.
 * docs/SAVE-RESTORE.md describes every field. In short: a 16-byte header (magic, version, body
 * length), the body (sections in a fixed order, integers as unsigned LEB128 varints), and a
 * CRC32C of everything before it. Reading checks everything a restore relies on before it returns,
 * so a stream that reads is one a host can apply without finding a fault halfway.
 */
public final class SaveStream {
    /** "XENEVTCH": what the stream starts with. */
    static final byte[] MAGIC = "XENEVTCH".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION_TWO_LEVEL = 1;
    public static final int VERSION_FIFO = 2;
    static final int HEADER = 16;
    static final int TRAILER = 4;
    /** The longest stream read: far above any domain's (a full 4096-port one is about 20 KiB). */
    public static final int MAX_BYTES = 1 << 24;

    private static final int WIDTH_X86_64 = 1;
    private static final int WIDTH_X86_32 = 2;
    private static final int PORT_BITS_MAX = (1 << 17) - 1;

    private SaveStream() {
    }

    // ---- writing -------------------------------------------------------------------------------

    public static byte[] write(DomainImage image) {
        EventChannelImage ev = image.events().domain();
        StreamWriter w = new StreamWriter(HEADER + 64 + ev.ports().size() * 6
                + (ev.sharedInfoPage() == null ? 0 : ev.sharedInfoPage().length) + image.vcpus() * 16);
        w.bytes(MAGIC);
        FifoImage fifo = ev.fifo();
        w.u16(fifo == null ? VERSION_TWO_LEVEL : VERSION_FIFO);
        w.u16(0);
        int lengthAt = w.position();
        w.u32(0);

        w.varint(image.domid());
        w.u8(image.width() == GuestWidth.X86_64 ? WIDTH_X86_64 : WIDTH_X86_32);
        w.varint(image.vcpus());
        w.varint(image.xenMajor());
        w.varint(image.xenMinor());
        w.varint(image.systemTime());

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

        int params = 0;
        for (long v : image.hvmParams()) {
            params += v != 0 ? 1 : 0;
        }
        w.varint(params);
        for (int i = 0; i < HvmParam.NR_PARAMS; i++) {
            if (image.hvmParams()[i] != 0) {
                w.varint(i);
                w.u64(image.hvmParams()[i]);
            }
        }
        for (int v = 0; v < image.vcpus(); v++) {
            w.varint(ev.vcpuVectors()[v] + 1L);
        }

        w.varint(ev.sharedInfoGfn() + 1);
        if (ev.sharedInfoPage() != null) {
            w.bytes(ev.sharedInfoPage());
        }
        for (int v = 0; v < image.vcpus(); v++) {
            w.varint(ev.vcpuInfoAt()[v] + 1);
        }

        for (TimerState t : image.timers()) {
            w.varint(t.singleshot() + 1);
            w.varint(t.period());
            if (t.period() != 0) {
                w.varint(t.periodicNext());
            }
        }

        List<BackendImage> backends = image.events().backends();
        w.varint(backends.size());
        for (BackendImage b : backends) {
            byte[] name = b.state().name().getBytes(StandardCharsets.UTF_8);
            w.varint(name.length);
            w.bytes(name);
            Set<Integer> pending = new HashSet<>(b.pendingPorts());
            w.varint(b.state().bindings().size());
            for (BackendState.Binding binding : b.state().bindings()) {
                w.varint(binding.port());
                w.varint(binding.remotePort());
                w.u8(pending.contains(binding.port()) ? 1 : 0);
            }
        }

        if (fifo != null) {
            writeFifo(w, ev, fifo);
        }

        w.u32At(lengthAt, w.position() - HEADER);
        CRC32C crc = new CRC32C();
        crc.update(w.buffer(), 0, w.position());
        w.u32((int) crc.getValue());
        return w.toArray();
    }

    /** Version 2's last section: control blocks, array pages, priorities other than 7, queue tails, ports raised before their page. */
    private static void writeFifo(StreamWriter w, EventChannelImage ev, FifoImage fifo) {
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

    // ---- reading -------------------------------------------------------------------------------

    /** The image in {@code stream}, every field checked; throws SaveStreamException saying what is wrong. */
    public static DomainImage read(byte[] stream) {
        if (stream.length > MAX_BYTES) {
            throw new SaveStreamException("save stream: " + stream.length + " bytes, more than any domain's ("
                    + MAX_BYTES + " at most)");
        }
        if (stream.length < MAGIC.length || !Arrays.equals(stream, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new SaveStreamException("not a save stream: it does not start with \"XENEVTCH\"");
        }
        if (stream.length < HEADER + TRAILER) {
            throw new SaveStreamException("save stream: truncated: " + stream.length + " bytes, less than its header and checksum");
        }
        int version = (stream[8] & 0xFF) | (stream[9] & 0xFF) << 8;
        if (version != VERSION_TWO_LEVEL && version != VERSION_FIFO) {
            throw new SaveStreamException("save stream: format version " + version + "; this host reads versions "
                    + VERSION_TWO_LEVEL + " and " + VERSION_FIFO);
        }
        if (stream[10] != 0 || stream[11] != 0) {
            throw new SaveStreamException("save stream, byte 10: reserved header bytes are not 0");
        }
        long body = Integer.toUnsignedLong(littleEndian(stream, 12));
        long actual = stream.length - HEADER - TRAILER;
        if (body != actual) {
            throw new SaveStreamException("save stream: " + (body > actual ? "truncated" : "bytes after its end") + ": the header says "
                    + body + " bytes of body, the stream has " + actual);
        }
        CRC32C crc = new CRC32C();
        crc.update(stream, 0, stream.length - TRAILER);
        if ((int) crc.getValue() != littleEndian(stream, stream.length - TRAILER)) {
            throw new SaveStreamException("save stream: corrupted: its CRC32C does not match");
        }
        StreamReader r = new StreamReader(stream, HEADER, stream.length - TRAILER);
        DomainImage image = body(r, version == VERSION_FIFO);
        if (!r.atEnd()) {
            throw r.bad(r.position(), "bytes after the last section");
        }
        return image;
    }

    private static DomainImage body(StreamReader r, boolean fifo) {
        int domid = r.varint32("domid", 1, DomId.FIRST_RESERVED - 1);
        int at = r.position();
        GuestWidth width = switch (r.u8("width")) {
            case WIDTH_X86_64 -> GuestWidth.X86_64;
            case WIDTH_X86_32 -> GuestWidth.X86_32;
            default -> throw r.bad(at, "width is neither 1 (x86_64) nor 2 (x86_32)");
        };
        int vcpus = r.varint32("vCPU count", 1, 0xFFFF);
        int major = r.varint32("Xen major version", 0x7FFF);
        int minor = r.varint32("Xen minor version", 0xFFFF);
        long systemTime = r.varint("system time", Long.MAX_VALUE);

        at = r.position();
        // Beyond 2-level's limit also in version 1: a domain reset from FIFO keeps its valid ports (XSA-338).
        int validPorts = r.varint32("valid ports", 64, EvtchnFifo.NR_CHANNELS);
        if (validPorts % 64 != 0) {
            throw r.bad(at, "valid ports (" + validPorts + ") is not a multiple of 64");
        }
        PortImage[] byPort = ports(r, domid, vcpus, validPorts, fifo ? EvtchnFifo.NR_CHANNELS : width.twoLevelPorts());

        long[] params = new long[HvmParam.NR_PARAMS];
        int count = r.varint32("HVM parameter count", HvmParam.NR_PARAMS);
        int lastIndex = -1;
        for (int i = 0; i < count; i++) {
            at = r.position();
            int index = r.varint32("HVM parameter index", HvmParam.NR_PARAMS - 1);
            if (index <= lastIndex) {
                throw r.bad(at, "HVM parameter " + index + " is out of order or repeated");
            }
            lastIndex = index;
            params[index] = r.u64("HVM parameter " + index);
        }
        int[] vectors = new int[vcpus];
        for (int v = 0; v < vcpus; v++) {
            at = r.position();
            r.about("vCPU ", v);
            int vector = r.varint32("upcall vector", 256) - 1;
            if (vector != EventChannelImage.NO_VECTOR && vector < HvmOp.MIN_UPCALL_VECTOR) {
                throw r.bad(at, "upcall vector " + vector + " is below " + HvmOp.MIN_UPCALL_VECTOR);
            }
            vectors[v] = vector;
        }
        r.aboutNothing();

        long sharedInfoGfn = r.varint("shared_info frame", Long.MAX_VALUE / GuestMemory.PAGE_SIZE + 1) - 1;
        byte[] sharedInfoPage = sharedInfoGfn == EventChannelImage.NOWHERE
                ? r.bytes((int) width.sharedInfo().size(), "the unmapped shared_info page") : null;
        long[] infoAt = placements(r, vcpus, "vcpu_info", VcpuInfoLayout.SIZE);

        List<TimerState> timers = new ArrayList<>(vcpus);
        for (int v = 0; v < vcpus; v++) {
            r.about("vCPU ", v);
            long singleshot = r.varint("singleshot deadline", Long.MAX_VALUE) - 1;
            at = r.position();
            long period = r.varint("period", VcpuOp.STIME_DELTA_MAX);
            if (period != 0 && period < VcpuOp.MIN_PERIOD_NS) {
                throw r.bad(at, "period " + period + " ns is under 1 ms");
            }
            long next = period == 0 ? 0 : r.varint("next periodic tick", Long.MAX_VALUE);
            timers.add(new TimerState(singleshot, period, next));
        }
        r.aboutNothing();

        List<BackendImage> backends = backends(r, domid, byPort);
        FifoImage fifoState = fifo ? readFifo(r, vcpus, validPorts, byPort) : null;
        EventChannelImage events = new EventChannelImage(validPorts, inOrder(byPort), vectors, sharedInfoGfn, sharedInfoPage,
                infoAt, fifoState);
        return new DomainImage(domid, width, major, minor, systemTime, new DomainEventsImage(events, backends), params, timers);
    }

    /** The ports, ascending; every field in range, the VIRQ table they imply without a clash, loops closed. */
    private static PortImage[] ports(StreamReader r, int domid, int vcpus, int validPorts, int limit) {
        int count = r.varint32("port count", validPorts - 1);
        PortImage[] byPort = new PortImage[validPorts];
        BitSet virqSlots = new BitSet();
        int port = 0;
        for (int i = 0; i < count; i++) {
            r.aboutNothing();
            int at = r.position();
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
                    int remote = realDomid(r, "peer domain");
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
        return byPort;
    }

    /** Version 2's FIFO section; sets the ports' priorities in {@code byPort} (7 unless it says otherwise). */
    private static FifoImage readFifo(StreamReader r, int vcpus, int validPorts, PortImage[] byPort) {
        long[] controlAt = placements(r, vcpus, "FIFO control block", EvtchnFifo.CONTROL_BLOCK_SIZE);
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
        return new FifoImage(controlAt, pages, tails, moved.stream().toArray(), early);
    }

    /**
     * Per vCPU, where the guest put a record of {@code size} bytes (vcpu_info, a FIFO control
     * block): a guest-physical address + 1, 0 for none; 8-byte aligned within one page.
     */
    private static long[] placements(StreamReader r, int vcpus, String what, int size) {
        long[] at = new long[vcpus];
        String field = what + " address";
        for (int v = 0; v < vcpus; v++) {
            int pos = r.position();
            r.about("vCPU ", v);
            long gpa = r.varint(field, Long.MAX_VALUE) - 1;
            long offset = gpa & (GuestMemory.PAGE_SIZE - 1);
            if (gpa != EventChannelImage.NOWHERE && (offset > GuestMemory.PAGE_SIZE - size || (offset & 7) != 0)) {
                throw r.bad(pos, what + " at 0x" + Long.toHexString(gpa) + " is not 8-byte aligned within one page");
            }
            at[v] = gpa;
        }
        r.aboutNothing();
        return at;
    }

    /** The ports in use, in order. */
    private static List<PortImage> inOrder(PortImage[] byPort) {
        List<PortImage> ports = new ArrayList<>();
        for (PortImage p : byPort) {
            if (p != null) {
                ports.add(p);
            }
        }
        return ports;
    }

    private static List<BackendImage> backends(StreamReader r, int domid, PortImage[] byPort) {
        int toHost = 0;
        for (PortImage p : byPort) {
            if (p != null && p.type() == EvtchnStat.INTERDOMAIN && p.remoteDom() == DomId.HOST) {
                toHost++;
            }
        }
        int count = r.varint32("backend count", Math.min(toHost, 1024));
        List<BackendImage> backends = new ArrayList<>(count);
        Set<Integer> hostPorts = new HashSet<>();
        Set<Integer> guestPorts = new HashSet<>();
        String lastName = null;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            int length = r.varint32("backend name length", 1, 4 * EvtchnHost.MAX_NAME);
            String name = utf8(r.bytes(length, "backend name"));
            if (name == null || name.isEmpty() || name.length() > EvtchnHost.MAX_NAME) {
                throw r.bad(at, "backend name is not 1 to " + EvtchnHost.MAX_NAME + " characters of UTF-8");
            }
            if (lastName != null && name.compareTo(lastName) <= 0) {
                throw r.bad(at, "backend \"" + name + "\" is out of order or repeated");
            }
            lastName = name;
            r.about("backend \"" + name + "\"");
            int bindingCount = r.varint32("binding count", 1, toHost);
            List<BackendState.Binding> bindings = new ArrayList<>(bindingCount);
            List<Integer> pending = new ArrayList<>();
            for (int b = 0; b < bindingCount; b++) {
                at = r.position();
                int hostPort = r.varint32("host port", 1, Domains.HOST_PORTS - 1);
                int guestPort = r.varint32("guest port", 1, PORT_BITS_MAX);
                PortImage p = guestPort < byPort.length ? byPort[guestPort] : null;
                if (p == null || p.type() != EvtchnStat.INTERDOMAIN || p.remoteDom() != DomId.HOST || p.remotePort() != hostPort) {
                    throw r.bad(at, "backend \"" + name + "\" binds host port " + hostPort + " to guest port " + guestPort
                            + ", which is not connected to it");
                }
                if (!hostPorts.add(hostPort) || !guestPorts.add(guestPort)) {
                    throw r.bad(at, "backend \"" + name + "\": host port " + hostPort + " or guest port " + guestPort
                            + " is bound twice");
                }
                at = r.position();
                int flag = r.u8("pending flag");
                if (flag > 1) {
                    throw r.bad(at, "a pending flag is 0 or 1, not " + flag);
                }
                bindings.add(new BackendState.Binding(hostPort, domid, guestPort));
                if (flag == 1) {
                    pending.add(hostPort);
                }
            }
            r.aboutNothing();
            backends.add(new BackendImage(new BackendState(name, bindings), pending));
        }
        return backends;
    }

    /** The text, or null if the bytes are not UTF-8. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static int realDomid(StreamReader r, String what) {
        return r.varint32(what, DomId.FIRST_RESERVED - 1);
    }

    private static int littleEndian(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }
}
