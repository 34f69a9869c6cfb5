package benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import kvm.provider.boot.PvhImage;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.timer.PortableTimerProvider;
import kvm.provider.xen.KvmConfig;
import kvm.provider.xen.KvmGuest;
import test.guest.TestGuestImage;
import xen.evtchn.impl.host.HostComponent;

/**
 * The hypercall round trip on real KVM, as a guest sees it: the test guest built to call Xen as
 * current Linux does (test.guest's VMCALL variant, booted as a PVH image with command line
 * {@code bench=N}) runs rounds of N bare {@code out} exits (to an unused port; the host does nothing
 * but resume), N EVTCHNOP_send hypercalls by VMCALL/VMMCALL under a hardware breakpoint (a debug
 * exit) on a masked IPI port (each preceded by the guest's lock btr of the pending bit, so every
 * send finds the port idle and sets it again), N times the same guest work calling a stub of its
 * own whose {@code out} goes to the ignored port ("guest work": all but the host's hypercall
 * handling), and N sends again through the hypercall page (an I/O exit), marking each phase with an
 * OUT to port 0x81 that the host timestamps. µs per exit / per call, the ratios send / bare exit,
 * send / guest work and breakpoint send / hypercall-page send; medians over the rounds. The phases
 * run in the same guest, on the same vCPU thread, interleaved, so the machine's noise hits all of
 * them.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar benchmarks.KvmRoundTrip [N, default 200000]</pre>
 */
public final class KvmRoundTrip {
    private static final int DOMID = 1;
    private static final int MARKER_PORT = 0x81;
    private static final int ROUNDS = TestGuestImage.BENCH_ROUNDS;
    private static final int MARKERS = TestGuestImage.BENCH_MARKERS;
    private static final long RAM = 64L << 20;

    private KvmRoundTrip() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        if (n < 1) {
            throw new IllegalArgumentException("usage: KvmRoundTrip [exits per phase, default 200000]");
        }
        String why = KvmSystem.unavailableReason();
        byte[] image = TestGuestImage.bytes(TestGuestImage.Variant.VMCALL).orElse(null);
        if (why != null || image == null) {
            System.out.println("KVM round trip: skipped (" + (why != null ? why : "the test guest was not built: no gcc/as/ld") + ")");
            return;
        }
        System.out.printf(Locale.ROOT, "KVM round trip: %d exits per phase, %d rounds; %d CPUs; load average %s; Java %s%n",
                n, ROUNDS, Runtime.getRuntime().availableProcessors(), MachineLoad.loadAverage(), Runtime.version());
        ConcurrentLinkedQueue<long[]> marks = new ConcurrentLinkedQueue<>();
        KvmConfig config = KvmConfig.of(1, RAM, line -> System.out.println("  kvm: " + line))
                .withPortWrites((vcpu, port, size, value) -> {
                    if (port == MARKER_PORT) {
                        marks.add(new long[] {value, System.nanoTime()});
                    }
                });
        MachineLoad load = new MachineLoad();
        KvmGuest.Outcome outcome;
        try (PortableTimerProvider timers = new PortableTimerProvider()) {
            HostComponent xen = new HostComponent(timers);
            try (KvmGuest guest = KvmGuest.boot(xen, DOMID, config, PvhImage.parse(image), "bench=" + n, line -> { })) {
                outcome = guest.await(Duration.ofMinutes(10));
            }
        }
        if (outcome == null || outcome.failure() != null) {
            throw new IllegalStateException("the guest did not finish: " + outcome);
        }
        List<long[]> m = new ArrayList<>(marks);
        if (m.size() != MARKERS * ROUNDS) {
            throw new IllegalStateException("expected " + MARKERS * ROUNDS + " markers, got " + m.size());
        }
        System.out.printf(Locale.ROOT, "%-8s %12s %14s %12s %14s %10s %10s %10s%n", "round", "bare out µs",
                "send bkpt µs", "guest work µs", "send page µs", "page/bare", "page/work", "bkpt/page");
        double[][] columns = new double[7][ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            for (int i = 0; i < MARKERS; i++) {
                if (m.get(MARKERS * r + i)[0] != i + 1) {
                    throw new IllegalStateException("markers out of order in round " + r);
                }
            }
            double bare = phase(m, r, 0, n);
            double bkpt = phase(m, r, 1, n);
            double work = phase(m, r, 2, n);
            double page = phase(m, r, 3, n);
            double[] row = {bare, bkpt, work, page, page / bare, page / work, bkpt / page};
            for (int c = 0; c < row.length; c++) {
                columns[c][r] = row[c];
            }
            System.out.printf(Locale.ROOT, "%-8d %12.2f %14.2f %12.2f %14.2f %10.3f %10.3f %10.3f%n", r + 1, bare, bkpt,
                    work, page, row[4], row[5], row[6]);
        }
        System.out.printf(Locale.ROOT, "%-8s %12.2f %14.2f %12.2f %14.2f %10.3f %10.3f %10.3f   (others %s, steal %s, GCs %s)%n",
                "median", median(columns[0]), median(columns[1]), median(columns[2]), median(columns[3]),
                median(columns[4]), median(columns[5]), median(columns[6]), load.others(), load.steal(), load.gcs());
    }

    /** µs per iteration of phase {@code p} of round {@code r}: from its marker to the next. */
    private static double phase(List<long[]> m, int r, int p, int n) {
        return (m.get(MARKERS * r + p + 1)[1] - m.get(MARKERS * r + p)[1]) / 1e3 / n;
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }
}
