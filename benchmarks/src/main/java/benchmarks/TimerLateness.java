package benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import kvm.provider.timer.PortableTimerProvider;
import kvm.provider.timer.PreciseTimerProvider;
import kvm.provider.timer.ThreadedTimerProvider;
import org.HdrHistogram.Histogram;

/**
 * Timer lateness (the provider's now() when the action runs, minus the deadline) of both timer
 * providers, in an HdrHistogram:
 * <ul>
 * <li>1 timer re-armed every 1 ms;
 * <li>1,000 timers each re-armed every 10 ms, their deadlines spread evenly over the 10 ms
 *     (100,000 fires/s).
 * </ul>
 * Each timer re-arms itself from its action to its previous deadline plus the period, so a
 * provider that cannot keep up shows as a lateness that keeps growing. One second of warm-up per
 * case is not recorded. The last column is the CPU the rest of the machine used meanwhile. Compare with shared/reference/measured-here.md (C: timerfd + epoll, one
 * timer every 1 ms: p50 30 µs, p99 105 µs; one heap of 1,000 timers: p50 40 µs, p99 83 µs).
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar benchmarks.TimerLateness [seconds [rounds]]</pre>
 */
public final class TimerLateness {
    private static final long MS = 1_000_000L;
    private static final long WARMUP_NANOS = 1_000 * MS;
    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(600);

    private TimerLateness() {
    }

    public static void main(String[] args) throws InterruptedException {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        if (seconds < 1 || rounds < 1) {
            throw new IllegalArgumentException("usage: TimerLateness [seconds (default 5) [rounds (default 1)]]");
        }
        List<Provider> providers = new ArrayList<>();
        providers.add(new Provider("portable", PortableTimerProvider::new));
        if (PreciseTimerProvider.isSupported()) {
            providers.add(new Provider("precise", PreciseTimerProvider::new));
        } else {
            System.out.println("precise: not supported here (" + PreciseTimerProvider.unsupportedReason() + ")");
        }
        System.out.printf(Locale.ROOT, "timer lateness, %d s per case after 1 s warm-up; %d CPUs; load average %s%n%n",
                seconds, Runtime.getRuntime().availableProcessors(), MachineLoad.loadAverage());
        System.out.printf(Locale.ROOT, "%-9s %-28s %9s %9s %9s %9s %9s %10s %6s %8s%n", "provider", "case", "fires",
                "fires/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "early", "others");
        for (int round = 0; round < rounds; round++) {
            for (Provider p : providers) {
                run(p, "1 timer / 1 ms", 1, MS, seconds);
                run(p, "1,000 timers / 10 ms each", 1_000, 10 * MS, seconds);
            }
        }
    }

    private static void run(Provider provider, String name, int timers, long period, int seconds)
            throws InterruptedException {
        Histogram histogram = new Histogram(HIGHEST_NANOS, 3);
        Recorder recorder = new Recorder(histogram);
        ThreadedTimerProvider timerProvider = provider.factory.get();
        String othersPercent;
        try {
            long start = timerProvider.now() + 10 * MS;
            for (int i = 0; i < timers; i++) {
                new Periodic(timerProvider, recorder, period, start + period * i / timers).arm();
            }
            Thread.sleep(WARMUP_NANOS / MS + 10);
            MachineLoad others = new MachineLoad();
            recorder.recording = true;
            Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
            recorder.stop = true;
            othersPercent = others.others();
        } finally {
            timerProvider.close(); // joins the timer thread: the histogram is safe to read after it
        }
        long failed = timerProvider.failedActions();
        System.out.printf(Locale.ROOT, "%-9s %-28s %9d %9.0f %9.1f %9.1f %9.1f %10.1f %6d %8s%s%n", provider.name,
                name, histogram.getTotalCount(), histogram.getTotalCount() / (double) seconds,
                MachineLoad.micros(histogram.getValueAtPercentile(50)), MachineLoad.micros(histogram.getValueAtPercentile(99)),
                MachineLoad.micros(histogram.getValueAtPercentile(99.9)), MachineLoad.micros(histogram.getMaxValue()), recorder.early,
                othersPercent, failed == 0 ? "" : "  (" + failed + " actions threw)");
    }



    private record Provider(String name, Supplier<ThreadedTimerProvider> factory) {
    }

    /** The histogram and flags every timer of one case shares; written on the timer thread only. */
    private static final class Recorder {
        final Histogram histogram;
        volatile boolean recording;
        volatile boolean stop;
        long early;

        Recorder(Histogram histogram) {
            this.histogram = histogram;
        }

        void record(long lateness) {
            if (!recording) {
                return;
            }
            if (lateness < 0) {
                early++; // would break the contract: never expected
                return;
            }
            histogram.recordValue(Math.min(lateness, HIGHEST_NANOS));
        }
    }

    /** One timer, re-armed from its own action to its previous deadline plus the period. */
    private static final class Periodic implements Runnable {
        private final ThreadedTimerProvider provider;
        private final Recorder recorder;
        private final long period;
        private long deadline;

        Periodic(ThreadedTimerProvider provider, Recorder recorder, long period, long first) {
            this.provider = provider;
            this.recorder = recorder;
            this.period = period;
            this.deadline = first;
        }

        void arm() {
            provider.schedule(deadline, this);
        }

        @Override
        public void run() {
            recorder.record(provider.now() - deadline);
            if (!recorder.stop) {
                deadline += period;
                arm();
            }
        }
    }
}
