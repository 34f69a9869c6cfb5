package benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import kvm.provider.boot.GuestSpeed;
import linux.guest.DebianPackages;
import linux.guest.Initramfs;
import linux.guest.StockLinux;

/**
 * Time from the JVM's start to a stock Linux's shell prompt, as a user gets it: the launcher
 * (launcher/target/launcher.jar and its bundles) started as a new process with Debian's kernel,
 * the busybox initramfs and {@code --console}, timed from the process's start to the shell's
 * prompt on its standard output; then {@code poweroff -f} is typed and the process must exit 0.
 * 1 and 2 vCPUs alternately, medians of each.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/benchmarks.jar benchmarks.LinuxBootTime [runs, default 5]</pre>
 */
public final class LinuxBootTime {
    private static final Path LAUNCHER = Path.of("launcher/target/launcher.jar");
    private static final long TIMEOUT_S = 300;

    private LinuxBootTime() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        String why = GuestSpeed.emulationReason();
        if (why != null || !Files.isRegularFile(LAUNCHER)) {
            System.out.println("Linux boot time: skipped (" + (why != null ? why : "no " + LAUNCHER + ": build it") + ")");
            return;
        }
        StockLinux.Guest linux = new StockLinux(StockLinux.defaultCache(), DebianPackages.online()).prepare();
        System.out.printf(Locale.ROOT, "Linux boot time: Debian %s with busybox, JVM start to shell prompt, %d runs each;"
                + " %d CPUs; load average %s; Java %s%n", linux.release(), runs, Runtime.getRuntime().availableProcessors(),
                MachineLoad.loadAverage(), Runtime.version());
        List<Double> one = new ArrayList<>();
        List<Double> two = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            one.add(boot(linux, 1));
            two.add(boot(linux, 2));
            System.out.printf(Locale.ROOT, "run %d: 1 vCPU %.2f s, 2 vCPUs %.2f s%n", r + 1, one.getLast(), two.getLast());
        }
        System.out.printf(Locale.ROOT, "median: 1 vCPU %.2f s (%.2f-%.2f), 2 vCPUs %.2f s (%.2f-%.2f)%n", median(one),
                min(one), max(one), median(two), min(two), max(two));
    }

    /** Seconds from the launcher's start to the prompt. */
    static double boot(StockLinux.Guest linux, int vcpus) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-jar", LAUNCHER.toString(), "--kernel", linux.vmlinux().toString(), "--initrd",
                linux.initramfs().toString(), "--console", "--memory", "256", "--vcpus", Integer.toString(vcpus),
                "--cmdline", "console=hvc0 quiet").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long start = System.nanoTime();
        double seconds = Double.NaN;
        try (InputStream out = p.getInputStream(); OutputStream in = p.getOutputStream()) {
            StringBuilder seen = new StringBuilder();
            boolean ready = false;
            int c;
            while ((c = out.read()) >= 0) {
                seen.append((char) c);
                ready |= c == '\n' && seen.indexOf(Initramfs.READY) >= 0;
                if (ready && seen.length() >= 2 && seen.substring(seen.length() - 2).equals("# ")) {
                    seconds = (System.nanoTime() - start) / 1e9;
                    in.write("poweroff -f\n".getBytes(StandardCharsets.US_ASCII));
                    in.flush();
                    break;
                }
            }
            out.transferTo(OutputStream.nullOutputStream());
            if (Double.isNaN(seconds)) {
                throw new IllegalStateException("no shell prompt; the console said:\n" + seen);
            }
        }
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("the launcher did not exit 0 after poweroff -f");
        }
        return seconds;
    }

    private static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
