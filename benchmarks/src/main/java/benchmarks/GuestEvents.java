package benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import kvm.provider.timer.PreciseTimerProvider;
import kvm.provider.timer.ThreadedTimerProvider;
import org.HdrHistogram.Histogram;
import reference.guest.GuestConfig;
import reference.guest.ReferenceGuest;
import reference.guest.VcpuStats;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.host.XenHost;

/**
 * Events seen from inside a guest: software vCPUs ({@link SoftwareBackend}) on a whole host
 * ({@link XenHost}: every hypercall family, timers on a {@link PortableTimerProvider} or
 * {@link PreciseTimerProvider}), guest code making real hypercalls. Two tables:
 * <ol>
 * <li><b>Event throughput</b>, 2 vCPUs.
 *   <ul>
 *   <li>The reference guest ({@link ReferenceGuest}) at its fastest IPI setting: {@link GuestConfig#MAX_HZ}
 *       ticks a second per vCPU and an IPI to the other vCPU every tick ({@code ipiEveryTicks = 1}),
 *       on each timer provider. It sends IPIs only from its timer tick, so this row is bounded by
 *       the tick rate; it shows ticks/s and IPIs received/s (one unrecorded 1 s run first warms up
 *       the JIT).
 *   <li>{@link IpiGuest} (benchmark-only guest code): vCPU 0 and 1 ping-pong IPIs as fast as they
 *       can (EVTCHNOP_send to the other's IPI port, wait for the answer), waiting in sti;hlt or
 *       busy in a checkInterrupts() loop. Round trips/s and IPIs delivered/s.
 *   </ul>
 * <li><b>Upcall latency</b>: from System.nanoTime() just before vCPU 0's EVTCHNOP_send hypercall to
 *     System.nanoTime() at the start of vCPU 1's upcall handler for that event, one event at a time
 *     ({@link IpiGuest} in LATENCY mode), with vCPU 1 (a) halted in sti;hlt (its thread parked; the
 *     next send waits until it is, plus 50 µs) or (b) busy in a loop calling checkInterrupts()
 *     (20 µs between sends). HdrHistogram, 3 significant digits.
 * </ol>
 * Every case runs 1 s unrecorded, then {@code seconds}. "others" is the CPU the rest of the machine
 * used meanwhile (all CPUs' user+nice+system+irq+softirq from /proc/stat less this JVM's own CPU
 * time), "steal" the hypervisor's steal time, both as a percentage of all CPUs; "GCs" this JVM's
 * garbage collections in the measured window (count/total collection time; the hypercall path
 * allocates a little per call).
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar benchmarks.GuestEvents [seconds per case, default 5]</pre>
 */
public final class GuestEvents {
    private static final int DOMID = 1;
    private static final int VCPUS = 2;
    private static final long WARMUP_MILLIS = 1_000;
    private static final long HALTED_GAP_NANOS = 50_000;
    private static final long BUSY_GAP_NANOS = 20_000;

    private GuestEvents() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        if (seconds < 1) {
            throw new IllegalArgumentException("usage: GuestEvents [seconds per case (default 5)]");
        }
        System.out.printf(Locale.ROOT, "guest events: %d s per case after 1 s warm-up; %d CPUs; load average %s; Java %s%n",
                seconds, Runtime.getRuntime().availableProcessors(), MachineLoad.loadAverage(), Runtime.version());

        System.out.printf(Locale.ROOT, "%nEvent throughput, %d vCPUs (software backend, XenHost)%n", VCPUS);
        System.out.printf(Locale.ROOT, "%-62s %10s %12s %14s %7s %6s %10s%n", "guest", "ticks/s", "IPIs recv/s",
                "round trips/s", "others", "steal", "GCs");
        referenceGuest("portable", PortableTimerProvider::new, seconds);
        if (PreciseTimerProvider.isSupported()) {
            referenceGuest("precise", PreciseTimerProvider::new, seconds);
        } else {
            System.out.println("precise timer provider: not supported here (" + PreciseTimerProvider.unsupportedReason() + ")");
        }
        pingPong(IpiGuest.Wait.HALT, "benchmark guest ping-pong, both wait in sti;hlt", seconds);
        pingPong(IpiGuest.Wait.BUSY, "benchmark guest ping-pong, both busy in checkInterrupts()", seconds);

        System.out.printf(Locale.ROOT, "%nUpcall latency, EVTCHNOP_send (sender, before the hypercall) -> receiver's upcall handler%n");
        System.out.printf(Locale.ROOT, "%-42s %9s %9s %8s %8s %9s %9s %7s %6s %10s%n", "receiver", "samples",
                "samples/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "others", "steal", "GCs");
        latency(IpiGuest.Wait.HALT, HALTED_GAP_NANOS, "(a) halted in sti;hlt", seconds);
        latency(IpiGuest.Wait.BUSY, BUSY_GAP_NANOS, "(b) busy in a checkInterrupts() loop", seconds);
    }

    // ---- the cases ----

    private static void referenceGuest(String timerName, Supplier<ThreadedTimerProvider> timers, int seconds)
            throws InterruptedException {
        GuestConfig warmup = new GuestConfig(VCPUS, GuestConfig.MAX_HZ, Duration.ofMillis(WARMUP_MILLIS), true, 1);
        runReferenceGuest(timers, warmup);
        GuestConfig config = new GuestConfig(VCPUS, GuestConfig.MAX_HZ, Duration.ofSeconds(seconds), true, 1);
        MachineLoad load = new MachineLoad();
        Result r = runReferenceGuest(timers, config);
        String others = load.others();
        String steal = load.steal();
        String gcs = load.gcs();
        double runFor = seconds;
        long ticks = 0;
        long received = 0;
        long sent = 0;
        for (VcpuStats s : r.stats) {
            ticks += s.ticks();
            received += s.ipisReceived();
            sent += s.ipisSent();
        }
        String name = "reference guest, " + GuestConfig.MAX_HZ + " Hz, IPI every tick, " + timerName + " timer";
        System.out.printf(Locale.ROOT, "%-62s %10.0f %12.0f %14s %7s %6s %10s%s%n", name, ticks / runFor,
                received / runFor, "-", others, steal, gcs, r.problem == null
                        ? String.format(Locale.ROOT, "  (%d of %d ticks; %d IPIs sent)", ticks,
                                VCPUS * config.expectedTicks(), sent)
                        : "  (" + r.problem + ")");
    }

    private record Result(List<VcpuStats> stats, String problem) {
    }

    private static Result runReferenceGuest(Supplier<ThreadedTimerProvider> timerFactory, GuestConfig config)
            throws InterruptedException {
        try (ThreadedTimerProvider timers = timerFactory.get()) {
            XenHost xen = new XenHost(timers, (domid, reason) -> { });
            try (SoftwareBackend backend = new SoftwareBackend(DOMID, VCPUS, config.ramBytes(), xen.dispatcher())) {
                xen.createDomain(DOMID, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
                ReferenceGuest guest = ReferenceGuest.start(backend, config);
                boolean joined = backend.join(config.runFor().multipliedBy(3).plusSeconds(30));
                String problem = null;
                if (!joined) {
                    problem = "did not finish in time";
                } else if (guest.hypercallErrors() != 0) {
                    problem = "hypercall error: " + guest.lastHypercallError().orElse(null);
                } else if (!guest.finished()) {
                    problem = "did not power off";
                }
                return new Result(guest.stats(), problem);
            }
        }
    }

    private static void pingPong(IpiGuest.Wait wait, String name, int seconds) throws InterruptedException {
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            XenHost xen = new XenHost(timers, (domid, reason) -> { });
            long before0;
            long before1;
            long after0;
            long after1;
            long nanos;
            String others;
            String steal;
            String gcs;
            try (SoftwareBackend backend = new SoftwareBackend(DOMID, VCPUS, IpiGuest.RAM_BYTES, xen.dispatcher())) {
                xen.createDomain(DOMID, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
                IpiGuest guest = new IpiGuest(backend, IpiGuest.Mode.PING_PONG, wait, 0);
                backend.start(guest);
                awaitReady(backend, guest);
                Thread.sleep(WARMUP_MILLIS);
                MachineLoad load = new MachineLoad();
                long start = System.nanoTime();
                before0 = guest.received(0);
                before1 = guest.received(1);
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                after0 = guest.received(0);
                after1 = guest.received(1);
                nanos = System.nanoTime() - start;
                others = load.others();
                steal = load.steal();
                gcs = load.gcs();
                guest.done = true;
            } // close(): stops the vCPUs, reports guest code failures
            double s = nanos / 1e9;
            System.out.printf(Locale.ROOT, "%-62s %10s %12.0f %14.0f %7s %6s %10s%n", name, "-",
                    (after0 - before0 + after1 - before1) / s, (after0 - before0) / s, others, steal, gcs);
        }
    }

    private static void latency(IpiGuest.Wait wait, long gapNanos, String name, int seconds) throws InterruptedException {
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            XenHost xen = new XenHost(timers, (domid, reason) -> { });
            IpiGuest guest;
            String others;
            String steal;
            String gcs;
            try (SoftwareBackend backend = new SoftwareBackend(DOMID, VCPUS, IpiGuest.RAM_BYTES, xen.dispatcher())) {
                xen.createDomain(DOMID, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
                guest = new IpiGuest(backend, IpiGuest.Mode.LATENCY, wait, gapNanos);
                backend.start(guest);
                awaitReady(backend, guest);
                Thread.sleep(WARMUP_MILLIS);
                MachineLoad load = new MachineLoad();
                guest.recording = true;
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                guest.recording = false;
                others = load.others();
                steal = load.steal();
                gcs = load.gcs();
                guest.done = true;
            } // close() joins the vCPU threads: the histogram is safe to read after it
            Histogram h = guest.latency;
            System.out.printf(Locale.ROOT, "%-42s %9d %9.0f %8.1f %8.1f %9.1f %9.1f %7s %6s %10s%s%n", name,
                    h.getTotalCount(), h.getTotalCount() / (double) seconds, MachineLoad.micros(h.getValueAtPercentile(50)),
                    MachineLoad.micros(h.getValueAtPercentile(99)), MachineLoad.micros(h.getValueAtPercentile(99.9)), MachineLoad.micros(h.getMaxValue()),
                    others, steal, gcs, guest.negative == 0 ? "" : "  (" + guest.negative + " negative samples dropped)");
        }
    }

    private static void awaitReady(SoftwareBackend backend, IpiGuest guest) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!guest.ready()) {
            if (System.nanoTime() - deadline > 0) {
                backend.join(Duration.ZERO); // throws if guest code failed
                throw new IllegalStateException("the benchmark guest did not come up in 10 s");
            }
            Thread.sleep(1);
        }
    }
}
