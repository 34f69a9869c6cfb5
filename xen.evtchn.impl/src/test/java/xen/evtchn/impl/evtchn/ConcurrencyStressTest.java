package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * Many vCPU threads on the event channels of one or two domains and the host's backends at once.
 * <p>
 * Invariants, checked at every quiescent point (all threads joined, after each round):
 * a closed port never has its pending bit set in guest memory; every interdomain port's peer
 * points back at it (read through status on both sides, or the owning host handle's peer); no
 * port is handed out twice while its first binding is still open (tracked per thread); no
 * exception escapes a thread; no thread deadlocks (joins have a deadline). At the end of each
 * scenario the table is reset and filled: lowest-free allocation must hand out exactly ports
 * 1 .. limit-1, in order, then -ENOSPC.
 * <p>
 * Scenarios: (a) IPIs bound, sent and closed by their vCPUs while others send on random ports
 * and resets run; (b) loopback and two-domain (64- and 32-bit) channels bound and closed while
 * both ends send; (c) host backend handles binding, unbinding and closing while the guest sends;
 * (d) a send racing the close of the very port it targets, checked port by port after a
 * handshake; (e) a host port re-bound by another handle while the guest sends: no event lost.
 * <p>
 * Each scenario runs about {@code stress.seconds} seconds (default 1.5), in rounds of about a second
 * with the quiescent checks after each; pass e.g. {@code -Dstress.seconds=120} for a long run.
 */
class ConcurrencyStressTest {
    static final double SECONDS = Double.parseDouble(System.getProperty("stress.seconds", "1.5"));
    /** About one round a second, so a long run has many quiescent checks; at least two (scenario (a) alternates). */
    static final int ROUNDS = Math.max(2, (int) Math.round(SECONDS));
    static final long ROUND_MS = Math.max(50, (long) (SECONDS * 1000 / ROUNDS));
    /** Threads must stop this long after they are told to, or the test reports a deadlock. */
    static final long JOIN_MS = 20_000;
    /** The longest a run goes on waiting for its threads to have done enough. */
    static final long MAX_RUN_MS = 20_000;
    static final long RAM = 1L << 20;
    static final long SHARED_INFO_GFN = 0x30;
    static final int SELF = DomId.SELF;
    static final int EINVAL = -Errno.EINVAL;
    static final int EBUSY = -Errno.EBUSY;
    static final int ENOSPC = -Errno.ENOSPC;

    private final Domains domains = new Domains();
    private final List<SoftwareBackend> backends = new ArrayList<>();
    private final Map<Integer, View> views = new HashMap<>();

    @AfterEach
    void tearDown() throws Exception {
        for (SoftwareBackend b : backends) {
            b.close();
        }
    }

    // =====================================================================================
    // (a) bind_ipi / send / close on own ports, sends on random ports, resets
    // =====================================================================================

    /**
     * Rounds alternate. Strict rounds: binds and closes are serialised against resets by a test
     * gate (sends are not), so every owner knows exactly which ports are its own: a port handed out
     * twice, a failed send or close on an own port, or an own IPI not pending after a send fails
     * the test. Chaos rounds: no gate, so binds and closes also race resets (an owner may close a
     * port that a reset freed and another thread re-bound, and a reset whose sweep a bind got
     * behind answers -EAGAIN, as Xen's); only the quiescent invariants apply.
     */
    @Test
    void ipisRacingRandomSendsAndResets() throws Exception {
        GuestEventChannels g = guest(1, GuestWidth.X86_64, 4);
        View v = views.get(1);
        int limit = g.portLimit();
        AtomicLongArray owner = new AtomicLongArray(limit);
        ResetGate gate = new ResetGate();
        AtomicLong sends = new AtomicLong();
        AtomicLong resets = new AtomicLong();

        for (int round = 0; round < ROUNDS; round++) {
            boolean strict = round % 2 == 0;
            Run run = new Run();
            for (int t = 0; t < 3; t++) {
                int tid = t + 1;
                run.thread("owner-" + tid, () -> ipiOwner(run, g, v, tid, owner, gate, strict, sends));
            }
            run.thread("random-sender", () -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (run.going()) {
                    int p = r.nextInt(10) < 8 ? 1 + r.nextInt(200) : r.nextInt(limit + 10);
                    int rc = g.send(p);
                    Run.check(rc == 0 || rc == EINVAL, () -> "send(" + p + ") = " + Errno.describe(rc));
                    sends.incrementAndGet();
                    switch (r.nextInt(16)) {
                        case 0 -> {
                            int u = r.nextInt(limit + 10) - 5;
                            int rcu = g.unmask(u);
                            Run.check(rcu == 0 || rcu == EINVAL, () -> "unmask(" + u + ") = " + Errno.describe(rcu));
                        }
                        case 1 -> {
                            int s = r.nextInt(300);
                            PortStatus st = g.status(SELF, s);
                            Run.check(st.error() == 0 || st.error() == EINVAL, () -> "status(" + s + ") = " + st);
                        }
                        case 2 -> v.guestHandlesUpcall(r.nextInt(4));
                        case 3 -> {
                            if (r.nextInt(64) == 0) { // a second resetter, so resets also race each other
                                int rcr = gate.reset(g, strict);
                                Run.check(resetAnswer(rcr, strict), () -> "reset = " + Errno.describe(rcr));
                            }
                        }
                        default -> {
                        }
                    }
                }
            });
            run.thread("resetter", () -> {
                ThreadLocalRandom r = ThreadLocalRandom.current();
                while (run.going()) {
                    Thread.sleep(2 + r.nextInt(15));
                    int rc = gate.reset(g, strict);
                    Run.check(resetAnswer(rc, strict), () -> "reset = " + Errno.describe(rc));
                    if (rc == 0) {
                        resets.incrementAndGet();
                    }
                }
            });
            run.go(ROUND_MS);
            checkGuest(g, List.of());
        }
        assertTrue(sends.get() > 1000, "the threads did work: " + sends.get() + " sends");
        assertTrue(resets.get() > 0, "resets ran");
        finalAllocationCheck(g);
    }

    /** 0 or -EBUSY; in a chaos round also -EAGAIN (a bind got behind the reset's sweep). */
    private static boolean resetAnswer(int rc, boolean strict) {
        return rc == 0 || rc == EBUSY || !strict && rc == -Errno.EAGAIN;
    }

    /**
     * One vCPU's loop: binds a batch of IPIs on its own vCPU (no other thread binds there), sends
     * on each, checks it became pending, closes them in random order.
     */
    private static void ipiOwner(Run run, GuestEventChannels g, View v, int tid, AtomicLongArray owner, ResetGate gate,
            boolean strict, AtomicLong sends) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int vcpu = tid;
        while (run.going()) {
            int k = 1 + r.nextInt(40);
            int[] ports = new int[k];
            long[] recs = new long[k];
            for (int i = 0; i < k; i++) {
                int slot = i;
                gate.excludingResets(strict, () -> {
                    long s0 = gate.generation();
                    int p = g.bindIpi(vcpu);
                    Run.check(p > 0, () -> "bind_ipi = " + Errno.describe(p) + "; the table: " + census(g));
                    long rec = (long) tid << 32 | s0;
                    if (strict) {
                        long prev = owner.getAndSet(p, rec);
                        Run.check(prev == 0 || !gate.clean(prev), () -> "port " + p + " was handed to thread " + tid
                                + " while thread " + (prev >>> 32) + " still held it and no reset ran since");
                    }
                    ports[slot] = p;
                    recs[slot] = rec;
                });
            }
            for (int i = 0; i < k; i++) {
                int p = ports[i];
                int rc = g.send(p);
                sends.incrementAndGet();
                boolean pending = v.pending(p);
                if (strict && gate.clean(recs[i])) {
                    // no reset began since the bind (and none can close it but us): still our IPI
                    Run.check(rc == 0, () -> "send on own ipi " + p + " = " + Errno.describe(rc));
                    Run.check(pending, () -> "own ipi " + p + " not pending after a send");
                    if (r.nextBoolean()) {
                        // The guest consumes its event; under the gate, so that a reset cannot free and
                        // hand the port to another thread between the check and the clear.
                        long rec = recs[i];
                        gate.excludingResets(true, () -> {
                            if (gate.clean(rec)) {
                                v.testAndClearPending(p);
                            }
                        });
                    }
                } else {
                    Run.check(rc == 0 || rc == EINVAL, () -> "send(" + p + ") = " + Errno.describe(rc));
                }
            }
            for (int n = k; n > 0; n--) {
                int i = r.nextInt(n);
                int p = ports[i];
                long rec = recs[i];
                ports[i] = ports[n - 1];
                recs[i] = recs[n - 1];
                if (!strict) {
                    int rc = g.close(p); // may be gone (reset) or even someone else's by now
                    Run.check(rc == 0 || rc == EINVAL, () -> "close(" + p + ") = " + Errno.describe(rc));
                    continue;
                }
                gate.excludingResets(true, () -> {
                    if (gate.clean(rec)) {
                        Run.check(owner.compareAndSet(p, rec, 0), () -> "port " + p + " of thread " + tid
                                + " was taken by thread " + (owner.get(p) >>> 32) + " while still bound");
                        int rc = g.close(p);
                        Run.check(rc == 0, () -> "close of own ipi " + p + " = " + Errno.describe(rc));
                    } else if (owner.compareAndSet(p, rec, 0)) {
                        // a reset ran since the bind; nobody re-registered the port: if it is still an
                        // IPI on our vCPU, it is still ours, and no reset can run while we close it
                        PortStatus st = g.status(SELF, p);
                        if (st.status() == EvtchnStat.IPI && st.vcpu() == vcpu) {
                            int rc = g.close(p);
                            Run.check(rc == 0, () -> "close of own ipi " + p + " = " + Errno.describe(rc));
                        }
                    }
                });
            }
        }
    }

    /** How many ports have each status, and which vCPUs hold the IPIs (for failure messages). */
    static String census(GuestEventChannels g) {
        int[] byStatus = new int[8];
        Map<Integer, Integer> ipisByVcpu = new java.util.TreeMap<>();
        for (int p = 0; p < g.validPorts(); p++) {
            PortStatus st = g.status(SELF, p);
            byStatus[st.error() != 0 ? 7 : st.status()]++;
            if (st.error() == 0 && st.status() == EvtchnStat.IPI) {
                ipisByVcpu.merge(st.vcpu(), 1, Integer::sum);
            }
        }
        return g.validPorts() + " valid; closed " + byStatus[0] + ", unbound " + byStatus[1] + ", interdomain "
                + byStatus[2] + ", virq " + byStatus[4] + ", ipi " + byStatus[5] + " " + ipisByVcpu + ", errors "
                + byStatus[7];
    }

    // =====================================================================================
    // (b) loopback and two-domain interdomain channels bound and closed while both ends send
    // =====================================================================================

    @Test
    void interdomainAndLoopbackChannelsRacingSends() throws Exception {
        GuestEventChannels a = guest(1, GuestWidth.X86_64, 4);
        GuestEventChannels b = guest(2, GuestWidth.X86_32, 2);
        Map<Integer, AtomicIntegerArray> owners = Map.of(
                1, new AtomicIntegerArray(a.portLimit()), 2, new AtomicIntegerArray(b.portLimit()));
        // live channel ends for the senders: dom << 32 | port, 0 = empty slot
        AtomicLongArray registry = new AtomicLongArray(256);
        AtomicLong channels = new AtomicLong();
        AtomicLong sends = new AtomicLong();

        for (int round = 0; round < ROUNDS; round++) {
            Run run = new Run();
            for (int t = 0; t < 3; t++) {
                int tid = t + 1;
                run.thread("connector-" + tid, () -> connector(run, a, b, tid, owners, registry, channels));
            }
            for (int t = 0; t < 2; t++) {
                run.thread("sender-" + t, () -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (run.going()) {
                        long slot = registry.get(r.nextInt(registry.length()));
                        GuestEventChannels d;
                        int p;
                        if (slot != 0 && r.nextInt(4) != 0) {
                            d = (int) (slot >>> 32) == 1 ? a : b;
                            p = (int) slot;
                        } else {
                            d = r.nextBoolean() ? a : b;
                            p = r.nextInt(d.portLimit() + 4);
                        }
                        int rc = d.send(p);
                        Run.check(rc == 0 || rc == EINVAL, () -> "send(" + p + ") = " + Errno.describe(rc));
                        sends.incrementAndGet();
                        if (r.nextInt(32) == 0) {
                            views.get(d.domid()).guestHandlesUpcall(r.nextInt(d.vcpus().vcpuCount()));
                        }
                        if (r.nextInt(32) == 0) {
                            int rcu = d.unmask(p);
                            Run.check(rcu == 0 || rcu == EINVAL, () -> "unmask(" + p + ") = " + Errno.describe(rcu));
                        }
                    }
                });
            }
            run.go(ROUND_MS);
            checkGuest(a, List.of());
            checkGuest(b, List.of());
        }
        assertTrue(channels.get() > 100, "the connectors did work: " + channels.get() + " channels");
        assertTrue(sends.get() > 1000, "the senders did work: " + sends.get() + " sends");
        finalAllocationCheck(a);
        finalAllocationCheck(b);
    }

    private void connector(Run run, GuestEventChannels a, GuestEventChannels b, int tid, Map<Integer, AtomicIntegerArray> owners,
            AtomicLongArray registry, AtomicLong channels) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (run.going()) {
            int k = 1 + r.nextInt(20);
            List<int[]> mine = new ArrayList<>(); // {offerDom, offerPort, bindDom, boundPort}
            for (int i = 0; i < k; i++) {
                GuestEventChannels offerer;
                GuestEventChannels binder;
                switch (r.nextInt(4)) {
                    case 0 -> { offerer = a; binder = a; }
                    case 1 -> { offerer = b; binder = b; }
                    case 2 -> { offerer = b; binder = a; }
                    default -> { offerer = a; binder = b; }
                }
                int remoteArg = offerer == binder ? SELF : binder.domid();
                int p = offerer.allocUnbound(SELF, remoteArg);
                Run.check(p > 0, () -> "alloc_unbound = " + Errno.describe(p));
                take(owners, offerer, p, tid);
                int q = binder.bindInterdomain(offerer == binder ? SELF : offerer.domid(), p);
                Run.check(q > 0, () -> "bind_interdomain(" + offerer.domid() + ":" + p + ") = " + Errno.describe(q));
                take(owners, binder, q, tid);
                channels.incrementAndGet();
                expectInterdomain(offerer, p, binder.domid(), q);
                expectInterdomain(binder, q, offerer.domid(), p);
                Run.check(views.get(binder.domid()).pending(q), () -> "new local port " + q + " not set pending by the bind");
                mine.add(new int[] {offerer.domid(), p, binder.domid(), q});
                registry.set(r.nextInt(registry.length()), (long) offerer.domid() << 32 | p);
                registry.set(r.nextInt(registry.length()), (long) binder.domid() << 32 | q);
            }
            // both ends send; the other end must become pending in its guest's memory
            for (int[] c : mine) {
                GuestEventChannels x = dom(a, b, c[0]);
                GuestEventChannels y = dom(a, b, c[2]);
                for (int dir = 0; dir < 2; dir++) {
                    GuestEventChannels from = dir == 0 ? x : y;
                    GuestEventChannels to = dir == 0 ? y : x;
                    int fromPort = dir == 0 ? c[1] : c[3];
                    int toPort = dir == 0 ? c[3] : c[1];
                    View toView = views.get(to.domid());
                    toView.testAndClearPending(toPort); // the guest consumed earlier events
                    int rc = from.send(fromPort);
                    Run.check(rc == 0, () -> "send on own channel end " + from.domid() + ":" + fromPort + " = " + Errno.describe(rc));
                    Run.check(toView.pending(toPort), () -> "peer " + to.domid() + ":" + toPort + " not pending after send from "
                            + from.domid() + ":" + fromPort);
                }
            }
            // close: either end first; the other end goes back to unbound, offered to the closer
            for (int[] c : mine) {
                boolean offererFirst = r.nextBoolean();
                GuestEventChannels first = dom(a, b, offererFirst ? c[0] : c[2]);
                int firstPort = offererFirst ? c[1] : c[3];
                GuestEventChannels second = dom(a, b, offererFirst ? c[2] : c[0]);
                int secondPort = offererFirst ? c[3] : c[1];
                release(owners, first, firstPort, tid);
                int rc1 = first.close(firstPort);
                Run.check(rc1 == 0, () -> "close " + first.domid() + ":" + firstPort + " = " + Errno.describe(rc1));
                PortStatus st = second.status(SELF, secondPort);
                Run.check(st.error() == 0 && st.status() == EvtchnStat.UNBOUND && st.remoteDom() == first.domid(),
                        () -> "after closing " + first.domid() + ":" + firstPort + " its peer " + second.domid() + ":"
                                + secondPort + " should be unbound, offered to " + first.domid() + ", not " + st);
                release(owners, second, secondPort, tid);
                int rc2 = second.close(secondPort);
                Run.check(rc2 == 0, () -> "close " + second.domid() + ":" + secondPort + " = " + Errno.describe(rc2));
            }
        }
    }

    private static GuestEventChannels dom(GuestEventChannels a, GuestEventChannels b, int domid) {
        return domid == a.domid() ? a : b;
    }

    private static void take(Map<Integer, AtomicIntegerArray> owners, GuestEventChannels d, int port, int tid) {
        int prev = owners.get(d.domid()).getAndSet(port, tid);
        Run.check(prev == 0, () -> "port " + d.domid() + ":" + port + " handed to thread " + tid
                + " while thread " + prev + " still holds it");
    }

    private static void release(Map<Integer, AtomicIntegerArray> owners, GuestEventChannels d, int port, int tid) {
        Run.check(owners.get(d.domid()).compareAndSet(port, tid, 0), () -> "port " + d.domid() + ":" + port
                + " of thread " + tid + " was taken by thread " + owners.get(d.domid()).get(port));
    }

    private static void expectInterdomain(GuestEventChannels d, int port, int remoteDom, int remotePort) {
        PortStatus st = d.status(SELF, port);
        Run.check(st.error() == 0 && st.status() == EvtchnStat.INTERDOMAIN && st.remoteDom() == remoteDom
                && st.remotePort() == remotePort, () -> d.domid() + ":" + port + " should be interdomain to "
                        + remoteDom + ":" + remotePort + ", is " + st);
    }

    // =====================================================================================
    // (c) host backend handles binding and unbinding while the guest sends
    // =====================================================================================

    @Test
    void hostHandlesBindingAndUnbindingWhileTheGuestSends() throws Exception {
        GuestEventChannels g = guest(1, GuestWidth.X86_64, 2);
        View v = views.get(1);
        AtomicIntegerArray guestOwner = new AtomicIntegerArray(g.portLimit());
        ConcurrentLinkedQueue<Integer> offers = new ConcurrentLinkedQueue<>();
        EvtchnHandle[] handles = new EvtchnHandle[3];
        for (int i = 0; i < handles.length; i++) {
            handles[i] = domains.host().open();
        }
        AtomicLong binds = new AtomicLong();
        AtomicLong reports = new AtomicLong();
        AtomicLong guestSends = new AtomicLong();

        for (int round = 0; round < ROUNDS; round++) {
            Run run = new Run();
            for (int i = 0; i < handles.length; i++) {
                int slot = i;
                run.thread("host-" + i, () -> hostBackend(run, g, handles, slot, offers, binds, reports));
            }
            for (int t = 0; t < 2; t++) {
                int tid = t + 1;
                run.thread("guest-vcpu-" + tid, () -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    List<Integer> live = new ArrayList<>();
                    while (run.going()) {
                        if (live.size() < 30 && r.nextInt(3) == 0) {
                            int gp = g.allocUnbound(SELF, DomId.HOST);
                            Run.check(gp > 0, () -> "alloc_unbound = " + Errno.describe(gp));
                            int prev = guestOwner.getAndSet(gp, tid);
                            Run.check(prev == 0, () -> "guest port " + gp + " handed to vcpu thread " + tid
                                    + " while thread " + prev + " still holds it");
                            live.add(gp);
                            offers.add(gp);
                        }
                        if (!live.isEmpty()) {
                            int gp = live.get(r.nextInt(live.size()));
                            int rc = g.send(gp);
                            Run.check(rc == 0, () -> "send on own guest port " + gp + " = " + Errno.describe(rc));
                            guestSends.incrementAndGet();
                            switch (r.nextInt(24)) {
                                case 0 -> {
                                    live.remove(Integer.valueOf(gp));
                                    Run.check(guestOwner.compareAndSet(gp, tid, 0), () -> "guest port " + gp + " was taken");
                                    int rcc = g.close(gp);
                                    Run.check(rcc == 0, () -> "close of own guest port " + gp + " = " + Errno.describe(rcc));
                                }
                                case 1 -> {
                                    int rcv = g.bindVcpu(gp, r.nextInt(2));
                                    Run.check(rcv == 0, () -> "bind_vcpu of own guest port " + gp + " = " + Errno.describe(rcv));
                                }
                                case 2 -> v.testAndClearPending(gp);
                                case 3 -> v.guestHandlesUpcall(r.nextInt(2));
                                default -> {
                                }
                            }
                        }
                    }
                    for (int gp : live) { // leave the rest bound for the checks; release ownership for the next round
                        guestOwner.compareAndSet(gp, tid, 0);
                    }
                });
            }
            run.go(ROUND_MS);
            checkGuest(g, List.of(handles));
            checkNoEventLost(g, handles);
        }
        assertTrue(binds.get() > 100, "the host threads did work: " + binds.get() + " binds");
        assertTrue(reports.get() > 0, "events reached the handles");
        assertTrue(guestSends.get() > 1000, "the guest did work: " + guestSends.get() + " sends");

        for (EvtchnHandle h : handles) {
            h.close();
        }
        // every guest end went back to unbound when its handle closed
        for (int p = 1; p < g.validPorts(); p++) {
            PortStatus st = g.status(SELF, p);
            int port = p;
            assertTrue(st.status() != EvtchnStat.INTERDOMAIN, () -> "guest port " + port + " still interdomain: " + st);
        }
        finalAllocationCheck(g);
        finalHostAllocationCheck(g);
    }

    private void hostBackend(Run run, GuestEventChannels g, EvtchnHandle[] handles, int slot,
            ConcurrentLinkedQueue<Integer> offers, AtomicLong binds, AtomicLong reports) throws Exception {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        EvtchnHandle h = handles[slot];
        Set<Integer> mine = new HashSet<>();
        while (run.going()) {
            Integer gp = offers.poll();
            if (gp != null) {
                int hp;
                try {
                    hp = h.bindInterdomain(g.domid(), gp);
                } catch (EvtchnException e) {
                    // the guest closed the port, or it is bound already (offered twice)
                    Run.check(e.errno() == Errno.EINVAL, () -> "bind to " + gp + ": " + e.getMessage());
                    continue;
                }
                Run.check(mine.add(hp), () -> "host port " + hp + " returned twice to one handle");
                binds.incrementAndGet();
                h.notify(hp);
            }
            for (int p; (p = h.pending()) != -1;) {
                int port = p;
                Run.check(mine.contains(port), () -> "handle reported port " + port + " that it does not hold");
                h.unmask(port);
                reports.incrementAndGet();
            }
            if (!mine.isEmpty() && r.nextInt(3) == 0) {
                int hp = pick(mine, r);
                h.notify(hp); // also when the guest closed its end: dropped silently
                EvtchnHandle.Peer peer = h.peer(hp);
                if (r.nextInt(4) == 0) {
                    h.unbind(hp);
                    mine.remove(hp);
                    if (peer != null) {
                        offers.add(peer.port()); // the guest end is offered to the host again
                    }
                }
            }
            if (r.nextInt(500) == 0) {
                // close the whole handle and start over with a new one
                List<Integer> reoffer = new ArrayList<>();
                for (int hp : mine) {
                    EvtchnHandle.Peer peer = h.peer(hp);
                    if (peer != null) {
                        reoffer.add(peer.port());
                    }
                }
                h.close();
                mine.clear();
                h = handles[slot] = domains.host().open();
                offers.addAll(reoffer);
            }
        }
    }

    private static int pick(Set<Integer> s, ThreadLocalRandom r) {
        int i = r.nextInt(s.size());
        for (int x : s) {
            if (i-- == 0) {
                return x;
            }
        }
        throw new AssertionError();
    }

    /**
     * Quiescent: drain every handle as a backend would (unmask what it is given), then send once on
     * every guest port connected to the host; each owning handle must report each such host port.
     */
    private static void checkNoEventLost(GuestEventChannels g, EvtchnHandle[] handles) throws Exception {
        for (EvtchnHandle h : handles) {
            for (int p; (p = h.pending(20, TimeUnit.MILLISECONDS)) != -1;) {
                h.unmask(p);
            }
        }
        Map<EvtchnHandle, Set<Integer>> expected = new HashMap<>();
        for (int gp = 1; gp < g.validPorts(); gp++) {
            PortStatus st = g.status(SELF, gp);
            if (st.status() == EvtchnStat.INTERDOMAIN && st.remoteDom() == DomId.HOST) {
                EvtchnHandle owner = ownerOf(handles, st.remotePort());
                assertTrue(owner != null, "host port " + st.remotePort() + " has no open handle");
                expected.computeIfAbsent(owner, k -> new HashSet<>()).add(st.remotePort());
                assertEquals(0, g.send(gp));
            }
        }
        for (Map.Entry<EvtchnHandle, Set<Integer>> e : expected.entrySet()) {
            Set<Integer> missing = new HashSet<>(e.getValue());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!missing.isEmpty() && System.nanoTime() < deadline) {
                int p = e.getKey().pending(50, TimeUnit.MILLISECONDS);
                if (p != -1) {
                    missing.remove(p);
                    e.getKey().unmask(p);
                }
            }
            assertTrue(missing.isEmpty(), "events lost: the guest sent on the peers of host ports " + missing
                    + " and their handle never reported them");
        }
    }

    private static EvtchnHandle ownerOf(EvtchnHandle[] handles, int hp) {
        EvtchnHandle found = null;
        for (EvtchnHandle h : handles) {
            try {
                h.peer(hp);
            } catch (EvtchnException notOwned) {
                continue;
            }
            assertTrue(found == null, "host port " + hp + " is owned by two handles");
            found = h;
        }
        return found;
    }

    // =====================================================================================
    // (d) a send racing the close of the very port it targets, checked port by port
    // =====================================================================================

    /**
     * A churner binds a port, lets a dedicated sender hammer it, closes it mid-stream, then waits
     * until the sender acknowledges that every send it started on that port has returned: from then
     * on nothing may be pending on the closed port (guest ports), and a host port's event state must
     * be clean (the next handle that binds the same host port gets its bind-time event). Unlike the
     * quiescent checks, this sees a stray bit before the port's next close would wipe it.
     */
    @Test
    void sendRacingCloseOfTheSamePortLeavesNothingBehind() throws Exception {
        GuestEventChannels g = guest(1, GuestWidth.X86_64, 2);
        GuestEventChannels g2 = guest(2, GuestWidth.X86_32, 1);
        View v = views.get(1);
        EvtchnHandle[] hosts = {domains.host().open(), domains.host().open()};
        // what the sender sends on: dom << 32 | port, 0 for nothing
        AtomicLong target = new AtomicLong();
        AtomicLong generation = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong closes = new AtomicLong();
        AtomicLong sends = new AtomicLong();

        Run run = new Run();
        run.thread("hot-sender", () -> {
            while (run.going()) {
                long gen = generation.get();
                long t = target.get();
                if (t != 0) {
                    GuestEventChannels d = (int) (t >>> 32) == 1 ? g : g2;
                    int rc = d.send((int) t);
                    Run.check(rc == 0 || rc == EINVAL, () -> "send(" + (int) t + ") = " + Errno.describe(rc));
                    sends.incrementAndGet();
                }
                acked.set(gen);
            }
        });
        run.thread("churner", () -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int flip = 0;
            while (run.going()) {
                switch (r.nextInt(4)) {
                    case 0 -> { // an IPI: the sender raises the port being closed
                        int p = g.bindIpi(1);
                        Run.check(p > 0, () -> "bind_ipi = " + Errno.describe(p));
                        aim(run, target, generation, acked, 1, p, r);
                        Run.check(g.close(p) == 0, () -> "close " + p);
                        aim(run, target, generation, acked, 0, 0, r);
                        Run.check(!v.pending(p), () -> "closed ipi " + p + " is pending after a send raced its close");
                    }
                    case 1 -> { // loopback: the sender raises the receiving end, which is closed
                        int a = g.allocUnbound(SELF, SELF);
                        int b = g.bindInterdomain(SELF, a);
                        Run.check(a > 0 && b > 0, () -> "loopback " + a + " " + b);
                        aim(run, target, generation, acked, 1, a, r);
                        Run.check(g.close(b) == 0, () -> "close " + b);
                        aim(run, target, generation, acked, 0, 0, r);
                        Run.check(!v.pending(b), () -> "closed loopback end " + b + " is pending after a send raced its close");
                        Run.check(g.close(a) == 0, () -> "close " + a);
                        Run.check(!v.pending(a), () -> "closed port " + a + " pending");
                    }
                    case 2 -> { // another domain sends to our port, which we close
                        int a = g2.allocUnbound(SELF, 1);
                        int b = g.bindInterdomain(2, a);
                        Run.check(a > 0 && b > 0, () -> "interdomain " + a + " " + b);
                        aim(run, target, generation, acked, 2, a, r);
                        Run.check(g.close(b) == 0, () -> "close " + b);
                        aim(run, target, generation, acked, 0, 0, r);
                        Run.check(!v.pending(b), () -> "closed port " + b + " is pending after a send from dom2 raced its close");
                        Run.check(g2.close(a) == 0, () -> "close 2:" + a);
                    }
                    default -> { // the guest sends to a host port that its handle unbinds
                        EvtchnHandle h = hosts[flip];
                        flip ^= 1;
                        int gp = g.allocUnbound(SELF, DomId.HOST);
                        Run.check(gp > 0, () -> "alloc_unbound = " + Errno.describe(gp));
                        int hp = h.bindInterdomain(1, gp);
                        boolean bindEvent = false;
                        for (int p; (p = h.pending()) != -1;) { // stale entries of earlier bindings may come too
                            bindEvent |= p == hp;
                            h.unmask(p);
                        }
                        int port = hp;
                        Run.check(bindEvent, () -> "host port " + port + ": its bind-time event never came;"
                                + " a send that raced the port's previous unbind left its event state behind");
                        aim(run, target, generation, acked, 1, gp, r);
                        h.unbind(hp);
                        aim(run, target, generation, acked, 0, 0, r);
                        Run.check(g.close(gp) == 0, () -> "close " + gp);
                    }
                }
                closes.incrementAndGet();
            }
        });
        run.go(Math.max(500, (long) (SECONDS * 1000)), () -> closes.get() > 100 && sends.get() > 1000);
        for (EvtchnHandle h : hosts) {
            h.close();
        }
        assertTrue(closes.get() > 100, "the churner did work: " + closes.get() + " closes");
        assertTrue(sends.get() > 1000, "the sender did work: " + sends.get() + " sends");
        checkGuest(g, List.of());
        checkGuest(g2, List.of());
    }

    /**
     * (e) A host port unbound by one handle while the guest keeps sending on its peer, and bound
     * again at once (the lowest free port: the same number) by another handle to the same guest
     * port. After the sender is quiesced, the new handle must have been told of its port (the
     * bind-time event), and a later guest send must reach it: no event may be lost.
     */
    @Test
    void hostPortReboundByAnotherHandleWhileTheGuestSendsLosesNoEvent() throws Exception {
        GuestEventChannels g = guest(1, GuestWidth.X86_64, 2);
        EvtchnHandle[] hosts = {domains.host().open(), domains.host().open()};
        int gp = g.allocUnbound(SELF, DomId.HOST);
        AtomicLong target = new AtomicLong();
        AtomicLong generation = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong rebinds = new AtomicLong();

        Run run = new Run();
        run.thread("guest-sender", () -> {
            while (run.going()) {
                long gen = generation.get();
                long t = target.get();
                if (t != 0) {
                    int rc = g.send((int) t);
                    Run.check(rc == 0, () -> "send on " + (int) t + " = " + Errno.describe(rc));
                }
                acked.set(gen);
            }
        });
        run.thread("rebinder", () -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            int cur = 0;
            int hp = hosts[cur].bindInterdomain(1, gp);
            while (run.going()) {
                aim(run, target, generation, acked, 1, gp, r); // the guest sends all along
                for (int p; (p = hosts[cur].pending()) != -1;) { // a backend at work: its port unmasked
                    hosts[cur].unmask(p);
                }
                hosts[cur].unbind(hp);
                int next = cur ^ 1;
                int hp2 = hosts[next].bindInterdomain(1, gp); // at once, while sends are in flight
                aim(run, target, generation, acked, 0, 0, r); // now quiesce the sender
                boolean told = false;
                for (int p; (p = hosts[next].pending()) != -1;) {
                    told |= p == hp2;
                    hosts[next].unmask(p);
                }
                if (!told) {
                    Run.check(g.send(gp) == 0, () -> "send");
                    int later = hosts[next].pending(100, TimeUnit.MILLISECONDS);
                    int lostPort = hp2;
                    Run.check(false, () -> "after " + rebinds.get() + " rebinds: host port " + lostPort
                            + ", unbound by one handle and bound again by another while the guest was sending,"
                            + " never reported its bind-time event to the new handle; a later guest send "
                            + (later == lostPort ? "was reported" : "was lost too (pending = " + later + ")"));
                }
                rebinds.incrementAndGet();
                hp = hp2;
                cur = next;
            }
        });
        run.go(Math.max(500, (long) (SECONDS * 1000)), () -> rebinds.get() > 100);
        for (EvtchnHandle h : hosts) {
            h.close();
        }
        assertTrue(rebinds.get() > 100, "the rebinder did work: " + rebinds.get() + " rebinds");
        checkGuest(g, List.of());
    }

    /**
     * Points the sender at {@code dom}:{@code port} (0: nothing) and waits until it has started a
     * send after the change, so no send on the previous target is still in flight; when aiming at a
     * port, then lets a few more sends run so the next close lands among them.
     */
    private static void aim(Run run, AtomicLong target, AtomicLong generation, AtomicLong acked, int dom, int port,
            ThreadLocalRandom r) {
        target.set((long) dom << 32 | port);
        long gen = generation.incrementAndGet();
        for (int spins = 0; acked.get() < gen; spins++) {
            if (!run.going()) {
                throw new Run.Stopped(); // the round ended mid-handshake
            }
            if (spins > 100) {
                Thread.yield();
            }
        }
        if (port != 0) {
            for (int i = r.nextInt(64); i > 0; i--) {
                Thread.onSpinWait();
            }
        }
    }

    // =====================================================================================
    // invariants
    // =====================================================================================

    /** Quiescent check of one guest domain's table against its guest memory and its peers. */
    private void checkGuest(GuestEventChannels d, List<EvtchnHandle> hostHandles) throws Exception {
        View v = views.get(d.domid());
        int limit = d.portLimit();
        int valid = d.validPorts();
        assertTrue(valid <= limit && valid % 64 == 0, "valid ports " + valid);
        List<String> problems = new ArrayList<>();
        for (int p = 0; p < limit && problems.size() < 20; p++) {
            PortStatus st = d.status(SELF, p);
            boolean pending = v.pending(p);
            if (st.error() != 0) {
                if (st.error() != EINVAL || p < valid) {
                    problems.add("status(" + p + ") = " + st + " with " + valid + " valid ports");
                }
                if (pending) {
                    problems.add("never-valid port " + p + " is pending");
                }
                continue;
            }
            switch (st.status()) {
                case EvtchnStat.CLOSED -> {
                    if (pending) {
                        problems.add("closed port " + d.domid() + ":" + p + " has its pending bit set");
                    }
                }
                case EvtchnStat.INTERDOMAIN -> {
                    String back = pointsBack(d.domid(), p, st.remoteDom(), st.remotePort(), hostHandles);
                    if (back != null) {
                        problems.add(back);
                    }
                }
                case EvtchnStat.UNBOUND -> {
                    if (!DomId.isReal(st.remoteDom())) {
                        problems.add("unbound port " + p + " offered to " + st.remoteDom());
                    }
                }
                case EvtchnStat.IPI, EvtchnStat.VIRQ -> {
                    if (st.vcpu() >= d.vcpus().vcpuCount()) {
                        problems.add("port " + p + " on vcpu " + st.vcpu());
                    }
                }
                default -> problems.add("port " + p + ": unexpected " + st);
            }
        }
        if (!problems.isEmpty()) {
            fail("domain " + d.domid() + " is inconsistent:\n  " + String.join("\n  ", problems));
        }
    }

    /** Null if {@code dom}:{@code port}'s peer points back at it, else what is wrong. */
    private String pointsBack(int dom, int port, int remoteDom, int remotePort, List<EvtchnHandle> hostHandles)
            throws Exception {
        if (remoteDom == DomId.HOST) {
            List<EvtchnHandle.Peer> peers = new ArrayList<>();
            for (EvtchnHandle h : hostHandles) {
                try {
                    peers.add(h.peer(remotePort));
                } catch (EvtchnException notOwned) {
                    // another handle's port
                }
            }
            if (peers.size() != 1) {
                return dom + ":" + port + " is connected to host port " + remotePort + ", which " + peers.size()
                        + " open handles hold";
            }
            EvtchnHandle.Peer back = peers.get(0);
            return back != null && back.domid() == dom && back.port() == port ? null
                    : dom + ":" + port + " is connected to host port " + remotePort + ", whose peer is " + back;
        }
        GuestEventChannels peer = domains.guest(remoteDom);
        if (peer == null) {
            return dom + ":" + port + " is connected to missing domain " + remoteDom;
        }
        PortStatus st = peer.status(SELF, remotePort);
        return st.error() == 0 && st.status() == EvtchnStat.INTERDOMAIN && st.remoteDom() == dom
                && st.remotePort() == port ? null
                        : dom + ":" + port + " is connected to " + remoteDom + ":" + remotePort + ", which is " + st;
    }

    /**
     * Reset clears everything; then lowest-free allocation hands out exactly ports 1 .. limit-1 in
     * order, then -ENOSPC; a second reset frees them all again.
     */
    private void finalAllocationCheck(GuestEventChannels d) {
        View v = views.get(d.domid());
        assertEquals(0, d.reset(SELF), "reset");
        assertNothingBoundOrPending(d, v);
        int limit = d.portLimit();
        int expected = 1;
        for (;;) {
            int p = d.bindIpi(0);
            if (p < 0) {
                assertEquals(ENOSPC, p, "a full table answers -ENOSPC");
                break;
            }
            assertEquals(expected, p, "lowest free port first");
            expected++;
        }
        assertEquals(limit - 1, expected - 1, "exactly limit-1 ports could be bound");
        assertEquals(0, d.reset(SELF));
        assertNothingBoundOrPending(d, v);
        assertEquals(1, d.bindIpi(0), "the table works after the reset");
        assertEquals(0, d.close(1));
    }

    /** The host's table: every host port is free again, handed out lowest first up to HOST_PORTS-1. */
    private void finalHostAllocationCheck(GuestEventChannels g) throws Exception {
        assertEquals(0, g.reset(SELF));
        try (EvtchnHandle h = domains.host().open()) {
            for (int expected = 1; expected < Domains.HOST_PORTS; expected++) {
                int gp = g.allocUnbound(SELF, DomId.HOST);
                assertTrue(gp > 0, "guest alloc " + expected + ": " + Errno.describe(gp));
                assertEquals(expected, h.bindInterdomain(g.domid(), gp), "host ports handed out lowest first");
            }
        }
        assertEquals(0, g.reset(SELF));
    }

    private static void assertNothingBoundOrPending(GuestEventChannels d, View v) {
        for (int p = 0; p < d.portLimit(); p++) {
            PortStatus st = d.status(SELF, p);
            int port = p;
            assertTrue(st.error() == EINVAL || st.status() == EvtchnStat.CLOSED, () -> "port " + port + " after reset: " + st);
            assertTrue(!v.pending(p), () -> "port " + port + " pending after reset");
        }
    }

    // =====================================================================================
    // fixture
    // =====================================================================================

    private GuestEventChannels guest(int domid, GuestWidth width, int vcpus) {
        SoftwareBackend be = new SoftwareBackend(domid, vcpus, RAM, call -> -Errno.ENOSYS);
        backends.add(be);
        GuestEventChannels d = domains.create(domid, width, be);
        assertEquals(0, d.mapSharedInfo(SHARED_INFO_GFN));
        d.upcalls().setCallback(new UpcallRoute.Vector(0xF3));
        views.put(domid, new View(be.memory().ram().asSlice(SHARED_INFO_GFN * 4096, 4096), width));
        return d;
    }

    /** The guest's side of the 2-level ABI, at the reference offsets in guest RAM, with atomic access. */
    static final class View {
        private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
        private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
        final MemorySegment si;
        final boolean wide;
        final int bits;

        View(MemorySegment sharedInfo, GuestWidth w) {
            this.si = sharedInfo;
            this.wide = w == GuestWidth.X86_64;
            this.bits = wide ? 64 : 32;
        }

        private long pendingWord(int port) {
            return 0x800 + (long) (port / bits) * (bits / 8);
        }

        boolean pending(int port) {
            long off = pendingWord(port);
            return wide ? ((long) LONG.getVolatile(si, off) >>> (port % 64) & 1) != 0
                    : ((int) INT.getVolatile(si, off) >>> (port % 32) & 1) != 0;
        }

        /** The guest clears a pending bit, atomically, as its event handler does. */
        void testAndClearPending(int port) {
            long off = pendingWord(port);
            if (wide) {
                LONG.getAndBitwiseAnd(si, off, ~(1L << (port % 64)));
            } else {
                INT.getAndBitwiseAnd(si, off, ~(1 << (port % 32)));
            }
        }

        /** The guest's upcall entry: clear evtchn_upcall_pending and take pending_sel (bitmap untouched). */
        void guestHandlesUpcall(int vcpu) {
            long info = vcpu * 64L;
            INT.getAndBitwiseAnd(si, info, ~0xFF);
            if (wide) {
                LONG.getAndSet(si, info + 8, 0L);
            } else {
                INT.getAndSet(si, info + 4, 0);
            }
        }
    }

    /**
     * The test's own gate around resets, for the strict rounds of scenario (a): a gated reset runs
     * under the write side, owners bind and close under the read side, so a reset never runs while
     * an owner binds (and records) or closes a port; sends are not gated. {@code generation} counts
     * the resets begun, so an owner knows whether one may have closed its port since it bound it.
     */
    static final class ResetGate {
        private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
        private final AtomicLong generation = new AtomicLong();

        int reset(GuestEventChannels g, boolean gated) {
            if (gated) {
                lock.writeLock().lock();
            }
            try {
                generation.incrementAndGet();
                return g.reset(SELF);
            } finally {
                if (gated) {
                    lock.writeLock().unlock();
                }
            }
        }

        long generation() {
            return generation.get() & 0xFFFF_FFFFL;
        }

        /** True if no reset began since the bind recorded in {@code rec}. */
        boolean clean(long rec) {
            return (rec & 0xFFFF_FFFFL) == generation();
        }

        void excludingResets(boolean gated, Runnable r) {
            if (!gated) {
                r.run();
                return;
            }
            lock.readLock().lock();
            try {
                r.run();
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    /** Threads started together, stopped together, joined with a deadline; whatever they throw is kept. */
    static final class Run {
        private final List<Thread> threads = new ArrayList<>();
        private final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        private final AtomicInteger errorCount = new AtomicInteger();
        private volatile boolean stop;
        private CyclicBarrier barrier;

        interface Body {
            void run() throws Exception;
        }

        /** Thrown by a thread that waits for another one when the run is told to stop. */
        static final class Stopped extends RuntimeException {
            private static final long serialVersionUID = 1L;

            Stopped() {
                super(null, null, false, false);
            }
        }

        static void check(boolean ok, Supplier<String> message) {
            if (!ok) {
                throw new AssertionError(message.get());
            }
        }

        boolean going() {
            return !stop;
        }

        void thread(String name, Body body) {
            threads.add(Thread.ofPlatform().name("stress-" + name).daemon(true).unstarted(() -> {
                try {
                    barrier.await(JOIN_MS, TimeUnit.MILLISECONDS);
                    body.run();
                } catch (Stopped t) {
                    // told to stop while waiting for another thread: not a failure
                } catch (Throwable t) {
                    if (errorCount.incrementAndGet() <= 20) {
                        errors.add(new AssertionError(Thread.currentThread().getName() + ": " + t, t));
                    }
                    stop = true;
                }
            }));
        }

        void go(long millis) throws Exception {
            go(millis, () -> true);
        }

        /**
         * Runs for {@code millis}, then on until {@code enough} holds (a loaded machine does less
         * in the same time), but never past {@link #MAX_RUN_MS}.
         */
        void go(long millis, BooleanSupplier enough) throws Exception {
            barrier = new CyclicBarrier(threads.size());
            for (Thread t : threads) {
                t.start();
            }
            long start = System.nanoTime();
            long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
            long cap = start + TimeUnit.MILLISECONDS.toNanos(MAX_RUN_MS);
            while (!stop && (System.nanoTime() < end || (!enough.getAsBoolean() && System.nanoTime() < cap))) {
                Thread.sleep(10);
            }
            stop = true;
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_MS);
            List<Thread> stuck = new ArrayList<>();
            for (Thread t : threads) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                if (t.isAlive()) {
                    stuck.add(t);
                }
            }
            if (!stuck.isEmpty()) {
                StringBuilder sb = new StringBuilder("threads did not stop within " + JOIN_MS + " ms (deadlock?):");
                for (Thread t : stuck) {
                    sb.append("\n").append(t.getName()).append(" ").append(t.getState());
                    for (StackTraceElement e : t.getStackTrace()) {
                        sb.append("\n    at ").append(e);
                    }
                }
                for (Thread t : stuck) {
                    t.interrupt();
                }
                fail(sb.toString());
            }
            if (!errors.isEmpty()) {
                AssertionError first = new AssertionError(errorCount.get() + " thread failure(s); first: "
                        + errors.peek().getMessage(), errors.peek());
                errors.stream().skip(1).forEach(first::addSuppressed);
                throw first;
            }
        }
    }
}
