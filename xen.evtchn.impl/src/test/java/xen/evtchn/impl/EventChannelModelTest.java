package xen.evtchn.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import xen.evtchn.impl.EvtchnFixture.Guest;

/**
 * Random sequences of event-channel operations on one 64-bit guest with two vCPUs, against a
 * small model of Xen's 2-level semantics written from the ABI reference: after every operation
 * the implementation and the model agree on its return value, and on every port's status and
 * pending and mask bits (read from guest RAM). jqwik shrinks a failing sequence to a short one.
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

        boolean isValid(int port) {
            return port >= 0 && port < valid;
        }

        /** The lowest free port gets {@code e}; its pending bit starts clear. */
        int allocate(Entry e) {
            for (int p = 1; p < LIMIT; p++) {
                if (!bound.containsKey(p)) {
                    bound.put(p, e);
                    pending.remove(p);
                    valid = Math.max(valid, (p / 64 + 1) * 64);
                    return p;
                }
            }
            return ENOSPC;
        }

        int close(int port) {
            if (!isValid(port) || !bound.containsKey(port)) {
                return EINVAL;
            }
            Entry e = bound.remove(port);
            if (e.status() == EvtchnStat.VIRQ) {
                virqs.values().remove(port);
            }
            pending.remove(port);
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
                m.pending.add(port);
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
            m.masked.remove(port);
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
            return 0;
        }
    }

    /** The guest sets a port's mask bit in shared_info itself. */
    record GuestMasks(int port) implements Op {
        public int apply(Guest g) {
            g.mask(port);
            return 0;
        }

        public int model(Model m) {
            m.masked.add(port);
            return 0;
        }
    }

    /** The guest clears a port's pending bit, as its handler does. */
    record GuestClears(int port) implements Op {
        public int apply(Guest g) {
            g.clearPendingBit(port);
            return 0;
        }

        public int model(Model m) {
            m.pending.remove(port);
            return 0;
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
                net.jqwik.api.Tuple.of(2, port.map(GuestClears::new)));
        return op.list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 300)
    void theImplementationAgreesWithTheModel(@ForAll("sequences") @Size(max = 120) List<Op> ops) {
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
                    assertEquals(m.pending.contains(port), g.pending(port), at + ": pending bit of port " + port);
                    assertEquals(m.masked.contains(port), g.masked(port), at + ": mask bit of port " + port);
                }
            }
        }
    }
}
