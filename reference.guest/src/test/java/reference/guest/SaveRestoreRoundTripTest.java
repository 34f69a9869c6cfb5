package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.SaveStream;

/**
 * The round trip of step 5: a 4-vCPU reference guest ticks with IPIs flowing around its ring of
 * vCPUs, and mid-run it is saved, its domain destroyed, and the stream restored into a new host,
 * twice. The guest's code runs on, on the same software vCPUs and memory (what a VMM's migration
 * keeps), its hypercalls now reaching the new host. Every deadline of the run ticks exactly once
 * across the three hosts, and every IPI sent is received.
 */
class SaveRestoreRoundTripTest {
    private static final int VCPUS = 4;
    private static final int HZ = 250;
    private static final Duration RUN = Duration.ofSeconds(3);

    /**
     * The VMM's side of a migration: the vCPUs' hypercalls go to one host at a time, and a move
     * waits for the hypercalls in flight, holds new ones back, and switches them to the next host.
     * (The reference guest makes no hypercall that blocks, which would hold a move back.)
     */
    static final class MovableHypercalls implements HypercallHandler {
        private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
        private volatile HypercallHandler target;

        MovableHypercalls(HypercallHandler first) {
            target = first;
        }

        @Override
        public long hypercall(HypercallContext call) {
            gate.readLock().lock();
            try {
                return target.hypercall(call);
            } finally {
                gate.readLock().unlock();
            }
        }

        /** With every hypercall held back: runs {@code move}, which returns the handler of the host that has the domain now. */
        void move(java.util.function.Supplier<HypercallHandler> move) {
            gate.writeLock().lock();
            try {
                target = move.get();
            } finally {
                gate.writeLock().unlock();
            }
        }
    }

    @Test
    void savedAndRestoredTwiceMidRunNothingIsLostOrDuplicated() throws InterruptedException {
        List<Integer> shutdowns = new CopyOnWriteArrayList<>();
        List<PortableTimerProvider> providers = new ArrayList<>();
        List<Domain> platforms = new ArrayList<>();
        List<Integer> streamBytes = new ArrayList<>();
        GuestConfig config = new GuestConfig(VCPUS, HZ, RUN, true, 5);
        PortableTimerProvider firstTimers = new PortableTimerProvider();
        providers.add(firstTimers);
        XenHost first = new XenHost(firstTimers, (domid, reason) -> shutdowns.add(reason));
        MovableHypercalls hypercalls = new MovableHypercalls(first.dispatcher());
        try (SoftwareBackend backend = new SoftwareBackend(1, VCPUS, config.ramBytes(), hypercalls)) {
            platforms.add(first.createDomain(1, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory()));
            ReferenceGuest guest = ReferenceGuest.start(backend, config);
            XenHost[] current = {first};
            for (int move = 1; move <= 2; move++) {
                Thread.sleep(RUN.toMillis() / 3);
                PortableTimerProvider timers = new PortableTimerProvider();
                providers.add(timers);
                XenHost next = new XenHost(timers, (domid, reason) -> shutdowns.add(reason));
                hypercalls.move(() -> {
                    byte[] stream = SaveStream.write(current[0].save(1));
                    streamBytes.add(stream.length);
                    current[0].destroyDomain(1);
                    platforms.add(next.restoreDomain(1, SaveStream.read(stream), backend, DomainConsole.inMemory()));
                    current[0] = next;
                    return next.dispatcher();
                });
                assertTrue(guest.stats(0).ticks() < config.expectedTicks(), "moved mid-run, not after it");
            }
            assertTrue(backend.join(RUN.multipliedBy(4).plusSeconds(20)), "the guest finished in time");

            assertEquals(0, guest.hypercallErrors(), () -> String.valueOf(guest.lastHypercallError()));
            assertTrue(guest.finished());
            assertEquals(List.of(SchedOp.SHUTDOWN_POWEROFF), shutdowns, "the last host saw the power-off");
            List<VcpuStats> stats = guest.stats();
            for (VcpuStats s : stats) {
                long fired = 0;
                List<Long> perHost = new ArrayList<>();
                for (Domain p : platforms) {
                    long n = p.time().timers().fired(s.vcpu());
                    perHost.add(n);
                    fired += n;
                }
                assertEquals(config.expectedTicks(), s.ticks(), () -> s + ": every deadline of the run ticked once");
                assertEquals(fired, s.ticks(), () -> s + ": fired by each host " + perHost + " = handled by the guest");
                for (long n : perHost) {
                    assertTrue(n > 0, () -> s + ": each host ticked it " + perHost);
                }
                VcpuStats receiver = stats.get((s.vcpu() + 1) % VCPUS);
                assertEquals(s.ipisSent(), receiver.ipisReceived(), () -> s + " -> " + receiver);
                assertTrue(s.ipisSent() >= config.expectedTicks() / 5 - 1, () -> s + ": an IPI every 5 ticks");
            }
            assertEquals(2, streamBytes.size());
        } finally {
            providers.forEach(PortableTimerProvider::close);
        }
    }
}
