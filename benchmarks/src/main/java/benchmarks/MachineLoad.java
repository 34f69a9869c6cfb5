package benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the rest of the machine did while a benchmark case ran, from /proc/stat: CPU busy outside
 * this JVM (user+nice+system+irq+softirq of all CPUs less this process's CPU time) and steal time,
 * each as a percentage of all CPUs over the interval, and this JVM's GCs. "n/a" where /proc/stat or
 * the process CPU time is missing. A figure measured while others were busy is not ours alone.
 */
final class MachineLoad {
    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ = 100 on Linux
    private final long startNanos = System.nanoTime();
    private final long[] start = cpuTicks();
    private final long startOwn = ownCpuNanos();
    private final long[] startGc = gc();

    String others() {
        long[] now = cpuTicks();
        long own = ownCpuNanos();
        if (now == null || start == null || own < 0 || startOwn < 0) {
            return "n/a";
        }
        double busy = (now[0] - start[0]) * (double) NANOS_PER_TICK - (own - startOwn);
        return percent(busy);
    }

    String steal() {
        long[] now = cpuTicks();
        if (now == null || start == null) {
            return "n/a";
        }
        return percent((now[1] - start[1]) * (double) NANOS_PER_TICK);
    }

    /** Garbage collections in this JVM since the start: "count/total pause ms". */
    String gcs() {
        long[] now = gc();
        return String.format(Locale.ROOT, "%d/%dms", now[0] - startGc[0], now[1] - startGc[1]);
    }

    private static long[] gc() {
        long count = 0;
        long millis = 0;
        for (var bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, bean.getCollectionCount());
            millis += Math.max(0, bean.getCollectionTime());
        }
        return new long[] { count, millis };
    }

    private String percent(double nanos) {
        double capacity = (System.nanoTime() - startNanos) * (double) Runtime.getRuntime().availableProcessors();
        return String.format(Locale.ROOT, "%.0f%%", Math.max(0, 100 * nanos / capacity));
    }

    /** {busy (user+nice+system+irq+softirq), steal} of all CPUs in ticks, or null. */
    private static long[] cpuTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                    + Long.parseLong(f[7]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            return new long[] { busy, steal };
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long ownCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** The system load average, or "n/a". */
    static String loadAverage() {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return load < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", load);
    }

    static double micros(long nanos) {
        return nanos / 1_000.0;
    }
}
