package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/**
 * Random sequences of event-channel operations on one 64-bit guest with two vCPUs, against a
 * small model of Xen's semantics written from the ABI reference, 2-level and FIFO (the guest moves
 * to FIFO, sets priorities and consumes its queues as Linux does, and a reset brings it back):
 * after every operation the implementation and the model agree on its return value (for a
 * consumption, the ports consumed in order), and on every port's status and pending and mask
 * bits. jqwik shrinks a failing sequence to a short one.
 */
class EventChannelModelTest {
    static final int DOMID = 1;
    static final int VCPUS = 2;
    static final int LIMIT = 4096;
    /** Ports the operations aim at: all that a sequence can allocate, and some beyond the valid ones. */
    static final int PORTS = 140;
    static final int EINVAL = -Errno.EINVAL;
    static final int ENOENT = -Errno.ENOENT;
    static final int EEXIST = -Errno.EEXIST;
    static final int ENOSPC = -Errno.ENOSPC;

    /** A bound port in the model. */
    record Entry(int status, int vcpu, int virq) {
    }

    /** Xen's answers, kept as plainly as they are stated. */
    static final class Model {
        int valid = 64;
        final Map<Integer, Entry> bound = new HashMap<>();
        /** (owner vCPU, VIRQ) → port; a global VIRQ's owner is vCPU 0. */
        final Map<Integer, Integer> virqs = new HashMap<>();
        final Set<Integer> pending = new HashSet<>();
        final Set<Integer> masked = new HashSet<>();
        /** The FIFO ABI, once the guest asked for it: its own bits in the event words, priorities and queues. */
        boolean fifo;
        final Set<Integer> fifoPending = new HashSet<>();
        final Set<Integer> fifoMasked = new HashSet<>();
        final Set<Integer> linked = new HashSet<>();
        final Map<Integer, Integer> priority = new HashMap<>();
        /** Per vCPU and priority (vcpu * 16 + priority), the ports queued, in order. */
        final Map<Integer, ArrayDeque<Integer>> queues = new HashMap<>();

        boolean isValid(int port) {
            return port >= 0 && port < valid;
        }

        /** The lowest free port (under FIFO, one not still linked) gets {@code e}; its pending bit starts clear. */
        int allocate(Entry e) {
            for (int p = 1; p < LIMIT; p++) {
                if (!bound.containsKey(p) && !(fifo && linked.contains(p))) {
                    bound.put(p, e);
                    pendingBits().remove(p);
                    priority.put(p, 7);
                    valid = Math.max(valid, (p / 64 + 1) * 64);
                    return p;
                }
            }
            return ENOSPC;
        }

        Set<Integer> pendingBits() {
            return fifo ? fifoPending : pending;
        }

        Set<Integer> maskBits() {
            return fifo ? fifoMasked : masked;
        }

        /** Raises a bound port: 2-level, or FIFO's set_pending (link onto its vCPU's queue for its priority). */
        void raise(int port) {
            if (!fifo) {
                pending.add(port);
                return;
            }
            fifoPending.add(port);
            if (!fifoMasked.contains(port) && linked.add(port)) {
                queues.computeIfAbsent(bound.get(port).vcpu() * 16 + priority.get(port), q -> new ArrayDeque<>())
                        .add(port);
            }
        }

        /** Linux's consumer on {@code vcpu}: the highest priority first, each event unlinked, handled if pending and unmasked. */
        List<Integer> consume(int vcpu) {
            List<Integer> order = new ArrayList<>();
            for (int q = 0; q < 16; q++) {
                ArrayDeque<Integer> queue = queues.getOrDefault(vcpu * 16 + q, new ArrayDeque<>());
                while (!queue.isEmpty()) {
                    int port = queue.poll();
                    linked.remove(port);
                    if (fifoPending.contains(port) && !fifoMasked.contains(port)) {
                        fifoPending.remove(port);
                        order.add(port);
                    }
                }
            }
            return order;
        }

        int close(int port) {
            if (!isValid(port) || !bound.containsKey(port)) {
                return EINVAL;
            }
            Entry e = bound.remove(port);
            if (e.status() == EvtchnStat.VIRQ) {
                virqs.values().remove(port);
            }
            pendingBits().remove(port);
            return 0;
        }

        PortStatus status(int port) {
            if (!isValid(port)) {
                return PortStatus.failed(EINVAL);
            }
            Entry e = bound.get(port);
            if (e == null) {
                return new PortStatus(0, EvtchnStat.CLOSED, 0, 0, 0, 0, 0);
            }
            return switch (e.status()) {
                case EvtchnStat.UNBOUND -> new PortStatus(0, EvtchnStat.UNBOUND, e.vcpu(), DOMID, 0, 0, 0);
                case EvtchnStat.VIRQ -> new PortStatus(0, EvtchnStat.VIRQ, e.vcpu(), 0, 0, e.virq(), 0);
                default -> new PortStatus(0, e.status(), e.vcpu(), 0, 0, 0, 0);
            };
        }
    }

    /** One operation, on the implementation and on the model; both return what the guest would get. */
    sealed interface Op {
        int apply(Guest g);

        int model(Model m);
    }

    record AllocUnbound() implements Op {
        public int apply(Guest g) {
            return g.d.allocUnbound(DomId.SELF, DomId.SELF);
        }

        public int model(Model m) {
            return m.allocate(new Entry(EvtchnStat.UNBOUND, 0, 0));
        }
    }

    record BindIpi(int vcpu) implements Op {
        public int apply(Guest g) {
            return g.d.bindIpi(vcpu);
        }

        public int model(Model m) {
            return vcpu < 0 || vcpu >= VCPUS ? ENOENT : m.allocate(new Entry(EvtchnStat.IPI, vcpu, 0));
        }
    }

    record BindVirq(Virq virq, int vcpu) implements Op {
        public int apply(Guest g) {
            return g.d.bindVirq(virq.number(), vcpu);
        }

        public int model(Model m) {
            boolean perVcpu = virq == Virq.TIMER;
            if (!perVcpu && vcpu != 0) {
                return EINVAL; // a global VIRQ is bound on vCPU 0
            }
            if (vcpu < 0 || vcpu >= VCPUS) {
                return ENOENT;
            }
            int slot = vcpu * 64 + virq.number();
            if (m.virqs.containsKey(slot)) {
                return EEXIST;
            }
            int port = m.allocate(new Entry(EvtchnStat.VIRQ, vcpu, virq.number()));
            if (port > 0) {
                m.virqs.put(slot, port);
            }
            return port;
        }
    }

    record Close(int port) implements Op {
        public int apply(Guest g) {
            return g.d.close(port);
        }

        public int model(Model m) {
            return m.close(port);
        }
    }

    record Send(int port) implements Op {
        public int apply(Guest g) {
            return g.d.send(port);
        }

        public int model(Model m) {
            if (!m.isValid(port)) {
                return EINVAL;
            }
            Entry e = m.bound.get(port);
            if (e == null || e.status() == EvtchnStat.VIRQ) {
                return EINVAL;
            }
            if (e.status() == EvtchnStat.IPI) {
                m.raise(port);
            }
            return 0; // an unbound port drops the event
        }
    }

    record Unmask(int port) implements Op {
        public int apply(Guest g) {
            return g.d.unmask(port);
        }

        public int model(Model m) {
            if (!m.isValid(port)) {
                return EINVAL;
            }
            m.maskBits().remove(port);
            if (m.fifo && m.fifoPending.contains(port) && m.bound.containsKey(port)) {
                m.raise(port); // FIFO's unmask links a pending event
            }
            return 0;
        }
    }

    record BindVcpu(int port, int vcpu) implements Op {
        public int apply(Guest g) {
            return g.d.bindVcpu(port, vcpu);
        }

        public int model(Model m) {
            if (vcpu < 0 || vcpu >= VCPUS) {
                return ENOENT;
            }
            if (!m.isValid(port)) {
                return EINVAL;
            }
            Entry e = m.bound.get(port);
            boolean movable = e != null && (e.status() == EvtchnStat.UNBOUND
                    || e.status() == EvtchnStat.VIRQ && e.virq() != Virq.TIMER.number());
            if (!movable) {
                return EINVAL;
            }
            m.bound.put(port, new Entry(e.status(), vcpu, e.virq()));
            return 0;
        }
    }

    record Reset() implements Op {
        public int apply(Guest g) {
            return g.d.reset(DomId.SELF);
        }

        public int model(Model m) {
            for (int port : List.copyOf(m.bound.keySet())) {
                m.close(port);
            }
            m.fifo = false; // back to 2-level; the event words and queues are the guest's to forget
            return 0;
        }
    }

    /** The guest sets a port's mask bit in shared_info itself. */
    record GuestMasks(int port) implements Op {
        public int apply(Guest g) {
            if (g.d.isFifo()) {
                fifoGuest(g).mask(port);
            } else {
                g.mask(port);
            }
            return 0;
        }

        public int model(Model m) {
            m.maskBits().add(port);
            return 0;
        }
    }

    /** The guest clears a port's pending bit, as its handler does. */
    record GuestClears(int port) implements Op {
        public int apply(Guest g) {
            if (g.d.isFifo()) {
                fifoGuest(g).clearPending(port);
            } else {
                g.clearPendingBit(port);
            }
            return 0;
        }

        public int model(Model m) {
            m.pendingBits().remove(port);
            return 0;
        }
    }

    static FifoGuest fifoGuest(Guest g) {
        FifoGuest f = new FifoGuest(g.d, g.memory());
        f.pages = 1;
        return f;
    }

    /**
     * The guest moves to FIFO: init_control on both vCPUs (control blocks and the array page zeroed
     * first, as a guest hands over clean pages) and one array page. Pending 2-level bits come over
     * and are linked in port order when the page comes.
     */
    record GoFifo() implements Op {
        public int apply(Guest g) {
            if (!g.d.isFifo()) {
                g.memory().ram().asSlice(FifoGuest.CONTROL_GFN * 4096, 4096).fill((byte) 0);
                g.memory().ram().asSlice(FifoGuest.ARRAY_GFN * 4096, 4096).fill((byte) 0);
            }
            int rc = g.d.initControl(FifoGuest.CONTROL_GFN, 0, 0);
            if (rc != 0) {
                return rc;
            }
            g.d.initControl(FifoGuest.CONTROL_GFN, 128, 1);
            return g.d.expandArray(FifoGuest.ARRAY_GFN);
        }

        public int model(Model m) {
            if (m.fifo) {
                return EINVAL; // vCPU 0 has a control block
            }
            m.fifo = true;
            m.fifoPending.clear();
            m.fifoMasked.clear();
            m.linked.clear();
            m.queues.clear();
            for (int port : new TreeSet<>(m.bound.keySet())) {
                m.priority.put(port, 7);
                if (m.pending.remove(port)) {
                    m.raise(port);
                }
            }
            return 0;
        }
    }

    record SetPriority(int port, int priority) implements Op {
        public int apply(Guest g) {
            return g.d.setPriority(port, priority);
        }

        public int model(Model m) {
            if (!m.isValid(port)) {
                return EINVAL;
            }
            if (!m.fifo) {
                return -Errno.ENOSYS;
            }
            if (priority > 15) {
                return EINVAL;
            }
            if (m.bound.containsKey(port)) {
                m.priority.put(port, priority);
            }
            return 0;
        }
    }

    /** The guest's FIFO upcall handler on a vCPU; the result is what it consumed, in order (as a hash). */
    record GuestConsumes(int vcpu) implements Op {
        public int apply(Guest g) {
            return vcpu >= VCPUS || !g.d.isFifo() ? 0 : fifoGuest(g).consume(vcpu).hashCode();
        }

        public int model(Model m) {
            return vcpu >= VCPUS || !m.fifo ? 0 : m.consume(vcpu).hashCode();
        }
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        Arbitrary<Integer> port = Arbitraries.integers().between(0, PORTS - 1);
        Arbitrary<Integer> vcpu = Arbitraries.integers().between(0, VCPUS); // VCPUS itself does not exist
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(new AllocUnbound())),
                net.jqwik.api.Tuple.of(4, vcpu.map(BindIpi::new)),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(
                        Arbitraries.of(Virq.TIMER, Virq.CONSOLE), vcpu).as(BindVirq::new)),
                net.jqwik.api.Tuple.of(3, port.map(Close::new)),
                net.jqwik.api.Tuple.of(4, port.map(Send::new)),
                net.jqwik.api.Tuple.of(2, port.map(Unmask::new)),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(port, vcpu).as(BindVcpu::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Reset())),
                net.jqwik.api.Tuple.of(2, port.map(GuestMasks::new)),
                net.jqwik.api.Tuple.of(2, port.map(GuestClears::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new GoFifo())),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(port, Arbitraries.integers().between(0, 16))
                        .as(SetPriority::new)),
                net.jqwik.api.Tuple.of(3, vcpu.map(GuestConsumes::new)));
        return op.list().ofMinSize(1).ofMaxSize(120);
    }

    /** Sequences that start by moving to FIFO, on few ports, so that priorities, masks and consumption meet. */
    @Provide
    Arbitrary<List<Op>> fifoSequences() {
        Arbitrary<Integer> port = Arbitraries.integers().between(0, 12);
        Arbitrary<Integer> vcpu = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.integers().between(0, VCPUS - 1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(VCPUS)));
        Arbitrary<Op> op = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(2, Arbitraries.just(new AllocUnbound())),
                net.jqwik.api.Tuple.of(5, vcpu.map(BindIpi::new)),
                net.jqwik.api.Tuple.of(2, port.map(Close::new)),
                net.jqwik.api.Tuple.of(8, port.map(Send::new)),
                net.jqwik.api.Tuple.of(2, port.map(Unmask::new)),
                net.jqwik.api.Tuple.of(2, net.jqwik.api.Combinators.combine(port, vcpu).as(BindVcpu::new)),
                net.jqwik.api.Tuple.of(5, net.jqwik.api.Combinators.combine(port, Arbitraries.integers().between(0, 16))
                        .as(SetPriority::new)),
                net.jqwik.api.Tuple.of(2, port.map(GuestMasks::new)),
                net.jqwik.api.Tuple.of(1, port.map(GuestClears::new)),
                net.jqwik.api.Tuple.of(5, vcpu.map(GuestConsumes::new)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new Reset())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new GoFifo())));
        return op.list().ofMinSize(40).ofMaxSize(100).map(ops -> {
            List<Op> all = new ArrayList<>();
            all.add(new GoFifo());
            all.addAll(ops);
            return all;
        });
    }

    /** The smallest FIFO case, spelt out: a port raised later with a higher priority is consumed first. */
    @org.junit.jupiter.api.Test
    void aHigherPriorityGoesFirst() {
        check(List.of(new GoFifo(), new BindIpi(0), new BindIpi(0), new SetPriority(2, 0), new Send(1), new Send(2),
                new GuestConsumes(0)));
    }

    @Property(tries = 300)
    void theImplementationAgreesWithTheModel(@ForAll("sequences") @Size(max = 120) List<Op> ops) {
        check(ops);
    }

    @Property(tries = 1000)
    void underFifoTheImplementationAgreesWithTheModel(@ForAll("fifoSequences") List<Op> ops) {
        check(ops);
    }

    private static void check(List<Op> ops) {
        try (EvtchnFixture fx = new EvtchnFixture()) {
            Guest g = fx.guest(DOMID, GuestWidth.X86_64, VCPUS);
            Model m = new Model();
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                String at = "step " + i + " " + op;
                assertEquals(op.model(m), op.apply(g), at + ": return value");
                assertEquals(m.valid, g.d.validPorts(), at + ": valid ports");
                for (int port = 0; port < PORTS; port++) {
                    assertEquals(m.status(port), g.d.status(DomId.SELF, port), at + ": status of port " + port);
                    boolean valid = m.isValid(port);
                    assertEquals(valid && m.pendingBits().contains(port), g.d.isPending(port), at + ": pending bit of port " + port);
                    assertEquals(valid && m.maskBits().contains(port), g.d.isMasked(port), at + ": mask bit of port " + port);
                }
            }
        }
    }
}
