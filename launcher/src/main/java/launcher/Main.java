package launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.host.DomainConfiguration;
import xen.evtchn.api.host.DomainProperties;

/**
 * Embeds an OSGi framework (Apache Felix), installs and starts every bundle jar in a directory,
 * and, by default, boots the reference guest as domain 1 and follows it to its shutdown; with
 * {@code --kernel FILE} it boots that PVH kernel image on KVM as domain 1 instead.
 * <p>
 * The guest is booted inside the framework by a DS component configured through Config Admin:
 * the launcher writes one factory configuration, {@value #REFERENCE_PID} (domid 1, vcpus, hz,
 * seconds, ipis) or {@value #KERNEL_PID} (domid 1, kernel (an absolute path), cmdline, vcpus,
 * memory in MiB, initrd, console.lines, disk: a String[] of FILE[,OPTIONS]), by reflection
 * ({@link Configurations}). The guest's console (and the reference
 * guest's live event summary, or the KVM host's messages) are printed by the bundles. The
 * launcher shares no classes with them (it uses the api's constants, which javac inlines, and
 * never loads an api class): it follows the domain's service, registered with the api's
 * {@link DomainProperties} {@value DomainProperties#DOMAIN} and {@value DomainProperties#GUEST}
 * (reference or kernel), until it carries {@value DomainProperties#SHUTDOWN} (the reason's name)
 * and {@value DomainProperties#SHUTDOWN_CODE}, then stops the framework and exits with
 * {@link #exitStatus(int, boolean)}. If the guest's component fails to activate (bad settings, an
 * image that is not PVH, no usable /dev/kvm) the launcher prints its message and exits 1. The
 * reference guest must shut down within its run time and {@link #SHUTDOWN_SLACK}; a kernel runs
 * until it shuts down or the launcher is stopped.
 * <p>
 * With {@code --no-guest} it only starts the bundles: exit status 0 if every bundle is ACTIVE
 * (fragments: RESOLVED) and no component failed to activate, 1 otherwise. The bundle and component
 * tables are printed with {@code --verbose} or when something failed. Bad usage: 2. With
 * {@code --stay} the framework keeps running (after the guest ended, if there is one) until it is
 * stopped; Ctrl-C stops it cleanly.
 */
public final class Main {
    /** System property naming the bundle directory (the {@code --bundles} option wins). */
    public static final String BUNDLES_PROPERTY = "launcher.bundles";

    /** The factory PIDs of the guests' booter components, and the domain's configuration properties. */
    static final String REFERENCE_PID = "xen.domain.reference";
    static final String KERNEL_PID = "xen.domain.kernel";
    static final String DOMID = DomainConfiguration.DOMID;
    static final String VCPUS = DomainConfiguration.VCPUS;
    static final String HZ = "hz";
    static final String SECONDS = "seconds";
    static final String IPIS = "ipis";
    static final String FIFO_PORTS = "fifo.ports";
    static final String MEMORY = "memory";
    static final String KERNEL = "kernel";
    static final String CMDLINE = "cmdline";
    static final String INITRD = "initrd";
    static final String CONSOLE_LINES = "console.lines";
    static final String DISK = DomainConfiguration.DISK;
    static final String CONSOLES = DomainConfiguration.CONSOLES;
    static final int MAX_CONSOLES = DomainConfiguration.MAX_CONSOLES;
    /** The domain the launcher boots. */
    static final int GUEST_DOMID = 1;
    /** The values of {@value DomainProperties#GUEST}: the reference guest, or a PVH kernel on KVM. */
    static final String REFERENCE_GUEST = "reference";
    static final String KERNEL_GUEST = "kernel";
    /** The guests' limits (their components check them too; the launcher cannot load their classes). */
    static final int MAX_VCPUS = 64;
    static final int MAX_HZ = 10_000;
    static final int MAX_SECONDS = 86_400;
    /** 2^17 ports, less port 0 and the timer and IPI ports of 64 vCPUs. */
    static final int MAX_FIFO_PORTS = 130_943;
    static final int MAX_MEMORY_MIB = 65_536;
    /** hvm_start_info's command line: ASCII without NUL, at most this many characters. */
    static final int MAX_CMDLINE = 4095;
    static final int DEFAULT_REFERENCE_VCPUS = 2;
    static final int DEFAULT_KERNEL_VCPUS = 1;
    static final int DEFAULT_MEMORY_MIB = 64;
    /** How much longer than the guest's run time the launcher waits for its shutdown. */
    static final Duration SHUTDOWN_SLACK = Duration.ofSeconds(60);
    /** How often the launcher looks for a failed component while it waits for the guest's domain. */
    static final Duration START_POLL = Duration.ofMillis(200);

    private static final String USAGE = """
            usage: java -jar launcher/target/launcher.jar [OPTIONS]
            Starts every bundle in Felix, boots the reference guest as dom1 on the software
            backend, prints its console ("[dom1] ...") and an event summary once a second:
              dom1  t=3s  vcpu0 ticks=300 timer=300 ipi-in=30 ipi-out=30 upcalls=331  vcpu1 ...
            (ticks the guest handled, timer events the host delivered, IPI messages received and
            sent, upcalls taken), then its shutdown reason, and exits. With --kernel it boots a
            PVH kernel image as dom1 on KVM instead (/dev/kvm needed), prints its console
            ("[dom1] ...") and the KVM host's messages ("kvm: ...", on standard error) until it
            shuts down, then its shutdown reason.
              --vcpus N          the guest's vCPUs, 1..%d (default 2; with --kernel 1)
            The reference guest:
              --hz N             its timer ticks per second, 1..%d (default 100)
              --seconds N        how long it ticks, 1..%d (default 5)
              --no-ipis          no IPIs (default: each vCPU sends one to the next every 10 ticks)
              --fifo-ports N     the FIFO event channel ABI with N more ports, 512 a vCPU..%d,
                                 priorities 0..15, 64 events a vCPU each tick (default: 2-level)
            A kernel:
              --kernel FILE      boot FILE on KVM: an x86 ELF image with the Xen PVH entry note
                                 (XEN_ELFNOTE_PHYS32_ENTRY), or a distribution's bzImage
                                 (/boot/vmlinuz-*) whose payload is one
              --initrd FILE      its initial RAM disk (default none)
              --cmdline STRING   its command line, ASCII (default empty)
              --memory MIB       its RAM in MiB, 1..%d, rounded up to a multiple of 2 (default %d)
              --disk FILE[,ro|rw][,vdev=xvdX]
                                 a raw image file as a disk of the guest (a Xen vbd; Linux's
                                 xen-blkfront shows it as /dev/xvda, ...): ro read-only, rw
                                 (default) writable; repeatable, the disks without vdev take
                                 xvda, xvdb, ... in order. Needs bundles xen.bus and xen.block.
                                 A missing or unreadable FILE is bad usage; a bad option or an
                                 image the guest cannot use (not writable without ro, under
                                 512 bytes) fails its booter (status 1, naming the disk)
              --consoles N       N xen-bus consoles beside its own, 1..%d (device/console/1..N:
                                 Linux's hvc1 and up); their output is printed as
                                 "[dom1] consoleN: ..." lines. Needs bundles xen.bus and
                                 xen.console
              --console          attach this terminal to its console, raw, instead of printing
                                 "[dom1] ..." lines: what is typed goes to the guest; Ctrl-A c
                                 switches to the host's Gogo shell and back, Ctrl-A x stops the
                                 host. Without a terminal, standard input is the guest's input
            The host:
              --no-guest         boot no guest: start the bundles, say whether all are ACTIVE, exit
              --stay             keep the framework running after the guest ended (or, with
                                 --no-guest, after the bundles started); Ctrl-C stops it
              --shell            the Gogo shell on standard input even without a terminal
                                 (default: on a terminal only); it stays after the guest
                                 ended, and `exit 0` or Ctrl-D stops the host
              --no-shell         no shell, also on a terminal
              --verbose          also print the bundle and component tables, and when dom1
                                 was running (seconds after the JVM started)
              --bundles DIR      start every *.jar in DIR (default: -D%s, else the bundles/
                                 directory next to launcher.jar, else launcher/target/bundles)
              --timeout SECONDS  how long to wait for bundles and components (default 30)
            Exit status: the guest's shutdown reason: 0 poweroff; 1 crash or watchdog (also: the
            guest failed, e.g. a vCPU panicked on a failed hypercall or a kernel triple-faulted,
            or the reference guest did not shut down within its run time + 60 s);
            2 reboot or suspend. With --no-guest: 0 all bundles ACTIVE. Either way 1 if a bundle
            or component failed (e.g. the kernel is no PVH image, /dev/kvm is unusable), 2 for
            bad usage.
            """.formatted(MAX_VCPUS, MAX_HZ, MAX_SECONDS, MAX_FIFO_PORTS, MAX_MEMORY_MIB, DEFAULT_MEMORY_MIB, MAX_CONSOLES, BUNDLES_PROPERTY);

    /** The framework property with the arguments of Gogo's shell (gogo.shell's Activator runs "gosh --login" with them). */
    static final String GOSH_ARGS = "gosh.args";

    private static final String SCR_RUNTIME = "org.osgi.service.component.runtime.ServiceComponentRuntime";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * The command line.
     *
     * @param guest   boot a guest (false with --no-guest)
     * @param vcpus   its vCPUs
     * @param hz      the reference guest's tick rate
     * @param seconds how long it ticks
     * @param ipis    whether its vCPUs send IPIs
     * @param fifoPorts the reference guest's FIFO ports (0: the 2-level ABI)
     * @param kernel  the PVH kernel image to boot instead (absolute), or null for the reference guest
     * @param cmdline the kernel's command line
     * @param memory  the kernel's RAM in MiB
     * @param initrd  its initial RAM disk (absolute), or null
     * @param console whether the terminal is attached to the kernel's console (--console)
     * @param disks   the kernel's disks, FILE[,OPTIONS] each with FILE absolute (--disk)
     * @param consoles the kernel's xen-bus consoles beside its own (--consoles)
     */
    record Options(Path bundles, boolean stay, Duration timeout, boolean help, boolean verbose, boolean guest,
            int vcpus, int hz, int seconds, boolean ipis, int fifoPorts, Path kernel, String cmdline, int memory, Shell shell,
            Path initrd, boolean console, List<String> disks, int consoles) {
        /**
         * Whether the Gogo shell reads commands from standard input: --shell, or a terminal
         * unless --no-shell.
         */
        boolean shellWanted(boolean terminal) {
            return shell == Shell.ON || shell == Shell.AUTO && terminal;
        }

        /** Which guest: {@value #REFERENCE_GUEST} or {@value #KERNEL_GUEST}, the value of {@value DomainProperties#GUEST}. */
        String guestName() {
            return kernel == null ? REFERENCE_GUEST : KERNEL_GUEST;
        }

        /** The factory PID whose configuration boots the guest. */
        String guestPid() {
            return kernel == null ? REFERENCE_PID : KERNEL_PID;
        }

        /** The guest domain's configuration, typed as its booter's metatype says; empty with --no-guest. */
        Map<String, Object> guestConfiguration() {
            if (!guest) {
                return Map.of();
            }
            if (kernel != null) {
                Map<String, Object> k = new HashMap<>(Map.of(DOMID, GUEST_DOMID, KERNEL, kernel.toString(), CMDLINE, cmdline,
                        VCPUS, vcpus, MEMORY, memory));
                if (initrd != null) {
                    k.put(INITRD, initrd.toString());
                }
                if (console) {
                    k.put(CONSOLE_LINES, false); // the terminal shows the raw console instead
                }
                if (!disks.isEmpty()) {
                    k.put(DISK, disks.toArray(String[]::new)); // a multi-valued property, as Config Admin keeps it
                }
                if (consoles > 0) {
                    k.put(CONSOLES, consoles);
                }
                return Map.copyOf(k);
            }
            Map<String, Object> reference = new HashMap<>(Map.of(DOMID, GUEST_DOMID, VCPUS, vcpus, HZ, hz, SECONDS, seconds,
                    IPIS, ipis));
            if (fifoPorts > 0) {
                reference.put(FIFO_PORTS, fifoPorts); // absent: the booter's default, 2-level
            }
            return Map.copyOf(reference);
        }

        /** The guest's domain service, as its component registers it. */
        String guestFilter() {
            return "(&(" + DomainProperties.DOMAIN + "=*)(" + DomainProperties.GUEST + "=" + guestName() + "))";
        }

        /**
         * How long to wait for the guest's shutdown: the reference guest's run time and
         * {@link #SHUTDOWN_SLACK}; null for a kernel, which runs until it shuts down.
         */
        Duration guestDeadline() {
            return kernel != null ? null : Duration.ofSeconds(seconds).plus(SHUTDOWN_SLACK);
        }
    }

    /** --shell, --no-shell, or neither (a shell on a terminal only). */
    enum Shell {
        AUTO, ON, OFF
    }

    /** Whether standard input and output are a terminal (JDK 22+: System.console() exists on a pipe too). */
    static boolean onTerminal() {
        java.io.Console console = System.console();
        return console != null && console.isTerminal();
    }

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static Options parse(String[] args) throws UsageException {
        Path bundles = null;
        boolean stay = false;
        boolean help = false;
        boolean verbose = false;
        boolean guest = true;
        boolean ipis = true;
        Shell shell = Shell.AUTO;
        long timeout = 30;
        int vcpus = -1;
        int hz = 100;
        int seconds = 5;
        int fifoPorts = 0;
        Path kernel = null;
        Path initrd = null;
        boolean console = false;
        String cmdline = null;
        int memory = -1;
        List<String> disks = new ArrayList<>();
        int consoles = 0;
        // for --no-guest; of those, for the reference guest; for a kernel
        List<String> guestOptions = new ArrayList<>();
        List<String> referenceOptions = new ArrayList<>();
        List<String> kernelOptions = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "--stay", "-h", "--help", "-v", "--verbose", "--no-guest", "--no-ipis", "--shell", "--no-shell",
                        "--console" -> {
                    if (value != null) {
                        throw new UsageException(arg + " takes no value");
                    }
                    switch (arg) {
                        case "--stay" -> stay = true;
                        case "-v", "--verbose" -> verbose = true;
                        case "--no-guest" -> guest = false;
                        case "--shell", "--no-shell" -> {
                            Shell wanted = arg.equals("--shell") ? Shell.ON : Shell.OFF;
                            if (shell != Shell.AUTO && shell != wanted) {
                                throw new UsageException("--shell and --no-shell contradict each other");
                            }
                            shell = wanted;
                        }
                        case "--no-ipis" -> {
                            ipis = false;
                            guestOptions.add(arg);
                            referenceOptions.add(arg);
                        }
                        case "--console" -> {
                            console = true;
                            guestOptions.add(arg);
                            kernelOptions.add(arg);
                        }
                        default -> help = true;
                    }
                }
                case "--bundles", "--timeout", "--vcpus", "--hz", "--seconds", "--fifo-ports", "--kernel", "--cmdline",
                        "--memory", "--initrd", "--disk", "--consoles" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (arg) {
                        case "--bundles" -> {
                            if (value.isBlank()) {
                                throw new UsageException("--bundles needs a directory");
                            }
                            bundles = Paths.get(value);
                        }
                        case "--timeout" -> timeout = number(arg, value, 1, 86_400);
                        case "--vcpus" -> vcpus = (int) number(arg, value, 1, MAX_VCPUS);
                        case "--hz" -> hz = (int) number(arg, value, 1, MAX_HZ);
                        case "--seconds" -> seconds = (int) number(arg, value, 1, MAX_SECONDS);
                        case "--fifo-ports" -> fifoPorts = (int) number(arg, value, 0, MAX_FIFO_PORTS);
                        case "--kernel" -> kernel = readableFile(arg, value);
                        case "--initrd" -> initrd = readableFile(arg, value);
                        case "--cmdline" -> cmdline = cmdline(value);
                        case "--disk" -> disks.add(disk(value));
                        case "--consoles" -> consoles = (int) number(arg, value, 1, MAX_CONSOLES);
                        default -> memory = (int) number(arg, value, 1, MAX_MEMORY_MIB);
                    }
                    switch (arg) {
                        case "--bundles", "--timeout" -> {
                            // the host's
                        }
                        case "--hz", "--seconds", "--fifo-ports" -> {
                            guestOptions.add(arg);
                            referenceOptions.add(arg);
                        }
                        case "--cmdline", "--memory", "--initrd", "--disk", "--consoles" -> {
                            if (!kernelOptions.contains(arg)) { // --disk is repeatable
                                guestOptions.add(arg);
                                kernelOptions.add(arg);
                            }
                        }
                        default -> guestOptions.add(arg); // --vcpus, --kernel
                    }
                }
                default -> throw new UsageException("unknown argument: " + args[i]);
            }
        }
        if (!guest && !guestOptions.isEmpty()) {
            throw new UsageException(String.join(", ", guestOptions) + (guestOptions.size() == 1 ? " is" : " are")
                    + " for the guest, and --no-guest boots none");
        }
        if (kernel != null && !referenceOptions.isEmpty()) {
            throw new UsageException(String.join(", ", referenceOptions) + (referenceOptions.size() == 1 ? " is" : " are")
                    + " for the reference guest, not for --kernel");
        }
        if (kernel == null && !kernelOptions.isEmpty()) {
            throw new UsageException(String.join(", ", kernelOptions) + (kernelOptions.size() == 1 ? " is" : " are")
                    + " for --kernel");
        }
        if (bundles == null) {
            bundles = defaultBundles();
        }
        if (vcpus < 0) {
            vcpus = kernel == null ? DEFAULT_REFERENCE_VCPUS : DEFAULT_KERNEL_VCPUS;
        }
        return new Options(bundles.toAbsolutePath().normalize(), stay, Duration.ofSeconds(timeout), help, verbose,
                guest, vcpus, hz, seconds, ipis, fifoPorts, kernel, cmdline == null ? "" : cmdline,
                memory < 0 ? DEFAULT_MEMORY_MIB : memory, shell, initrd, console, List.copyOf(disks), consoles);
    }

    /**
     * A --disk value, FILE[,OPTIONS], with FILE a readable file, made absolute. The options are
     * passed on for the booter to check (the api's DiskSpec, which the launcher cannot load): only
     * what the launcher can say without it is bad usage here.
     */
    static String disk(String value) throws UsageException {
        int comma = value.indexOf(',');
        Path file = readableFile("--disk", (comma < 0 ? value : value.substring(0, comma)).strip());
        return comma < 0 ? file.toString() : file + value.substring(comma);
    }

    /** {@code value} as the absolute path of a readable file, or a message naming {@code option}. */
    static Path readableFile(String option, String value) throws UsageException {
        if (value.isBlank()) {
            throw new UsageException(option + " needs a file");
        }
        Path file;
        try {
            file = Paths.get(value).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new UsageException(option + ": not a path: \"" + value + "\"");
        }
        if (!Files.exists(file)) {
            throw new UsageException(option + ": no such file: " + file);
        }
        if (!Files.isRegularFile(file)) {
            throw new UsageException(option + ": not a regular file: " + file);
        }
        if (!Files.isReadable(file)) {
            throw new UsageException(option + ": cannot read " + file);
        }
        return file;
    }

    /** {@code value} if the guest can get it as its command line (ASCII without NUL, not too long). */
    static String cmdline(String value) throws UsageException {
        if (value.length() > MAX_CMDLINE) {
            throw new UsageException("--cmdline is " + value.length() + " characters long, at most " + MAX_CMDLINE);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == 0 || c > 0x7f) {
                throw new UsageException("--cmdline must be ASCII without NUL: character "
                        + String.format("U+%04X", (int) c) + " at index " + i);
            }
        }
        return value;
    }

    /** {@code value} as a whole number from {@code min} to {@code max}, or a message naming {@code option}. */
    static long number(String option, String value, long min, long max) throws UsageException {
        long n;
        try {
            n = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new UsageException(option + " needs a whole number, not \"" + value + "\"");
        }
        if (n < min || n > max) {
            throw new UsageException(option + " must be " + min + ".." + max + ": got " + n);
        }
        return n;
    }

    /**
     * The exit status for a guest that ended with shutdown reason {@code code} (SchedOp.SHUTDOWN_*):
     * 0 poweroff, 1 crash or watchdog, 2 reboot or suspend; 1 for anything else, and whenever the
     * guest {@code failed} rather than shut down by itself.
     */
    static int exitStatus(int code, boolean failed) {
        if (failed) {
            return 1;
        }
        return switch (code) {
            case SchedOp.SHUTDOWN_POWEROFF -> 0;
            case SchedOp.SHUTDOWN_CRASH, SchedOp.SHUTDOWN_WATCHDOG -> 1;
            case SchedOp.SHUTDOWN_REBOOT, SchedOp.SHUTDOWN_SUSPEND -> 2;
            default -> 1;
        };
    }

    /** -Dlauncher.bundles, else bundles/ beside launcher.jar, else launcher/target/bundles. */
    static Path defaultBundles() {
        String property = System.getProperty(BUNDLES_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Paths.get(property);
        }
        try {
            var source = Main.class.getProtectionDomain().getCodeSource();
            if (source != null) {
                Path location = Paths.get(source.getLocation().toURI());
                if (Files.isRegularFile(location)) {
                    Path beside = location.resolveSibling("bundles");
                    if (Files.isDirectory(beside)) {
                        return beside;
                    }
                }
            }
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            // fall through to the default
        }
        return Paths.get("launcher", "target", "bundles");
    }

    /** Runs the launcher; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            err.println("launcher: " + e.getMessage() + " (--help lists the options)");
            return 2;
        }
        if (options.help()) {
            out.print(USAGE);
            return 0;
        }
        List<Path> jars;
        try {
            jars = bundleJars(options.bundles());
        } catch (IOException e) {
            err.println("launcher: cannot read the bundle directory " + options.bundles() + ": " + e);
            err.println("launcher: build it first (./xen-evtchn run does), or pass --bundles DIR");
            return 1;
        }
        if (jars.isEmpty()) {
            err.println("launcher: no bundle jars in " + options.bundles());
            return 1;
        }
        try {
            return new Session(options, out, err).run(jars);
        } catch (BundleException | IOException | RuntimeException e) {
            err.println("launcher: the framework failed: " + describe(e));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("launcher: interrupted");
            return 1;
        }
    }

    static List<Path> bundleJars(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("not a directory");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        }
    }

    /** One framework: from creation to stop and deletion of its storage. */
    private static final class Session {
        private final Options options;
        private final PrintStream out;
        private final PrintStream err;
        private Path storage;
        private Framework framework;
        private boolean cleaned;
        private volatile boolean stopping;

        /** Whether Gogo reads commands from standard input in this session. */
        private final boolean shell;
        /** The terminal on dom1's console (--console), or null. */
        private ConsoleTerminal terminal;

        Session(Options options, PrintStream out, PrintStream err) {
            boolean onTerminal = onTerminal();
            // Without a terminal, --console takes standard input for the guest: no shell then.
            this.shell = options.shellWanted(onTerminal) && (!options.console() || onTerminal);
            this.options = options;
            this.out = out;
            this.err = err;
        }

        int run(List<Path> jars) throws BundleException, IOException, InterruptedException {
            storage = Files.createTempDirectory("xen-evtchn-felix-");
            Thread hook = new Thread(this::cleanup, "launcher-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                if (options.console() && options.guest()) {
                    // Before the framework: the shell's input becomes this terminal's pipe.
                    terminal = new ConsoleTerminal(System.in, out, err, onTerminal() ? ConsoleTerminal.Stty.ofTerminal() : null,
                            shell, this::quit);
                }
                framework = newFramework(storage);
                framework.init();
                BundleContext context = framework.getBundleContext();
                context.addFrameworkListener(event -> {
                    if (event.getType() == FrameworkEvent.ERROR) {
                        Bundle b = event.getBundle();
                        err.println("launcher: framework error"
                                + (b == null ? "" : " in " + b.getSymbolicName() + " [" + b.getBundleId() + "]")
                                + (event.getThrowable() == null ? "" : ": " + describe(event.getThrowable())));
                    }
                });
                // Before any bundle starts, so that no event of the guest's domain is missed.
                GuestWatch guest = options.guest() ? new GuestWatch(context, options.guestFilter()) : null;
                framework.start();

                Map<String, String> failures = new LinkedHashMap<>();
                List<Bundle> installed = new ArrayList<>();
                for (Path jar : jars) {
                    try {
                        installed.add(context.installBundle(jar.toUri().toString()));
                    } catch (BundleException e) {
                        failures.put(jar.getFileName().toString(), "cannot be installed: " + describe(e));
                    }
                }
                for (Bundle bundle : installed) {
                    if (isFragment(bundle)) {
                        continue;
                    }
                    try {
                        bundle.start();
                    } catch (BundleException | IllegalStateException e) {
                        failures.put(name(bundle), "cannot be started: " + describe(e));
                    }
                }
                // The guest's configuration as soon as Config Admin is up (it started with its
                // bundle): the guest boots while the launcher checks the bundles and components.
                String refused = guest == null ? null
                        : Configurations.create(context, options.guestPid(), "dom" + GUEST_DOMID, options.guestConfiguration());
                awaitActive(installed, failures);

                StringBuilder tables = new StringBuilder();
                bundleTable(context, tables);
                for (Bundle bundle : installed) {
                    String expected = isFragment(bundle) ? "RESOLVED" : "ACTIVE";
                    if (!state(bundle).equals(expected) && !failures.containsKey(name(bundle))) {
                        failures.put(name(bundle), "is " + state(bundle) + ", not " + expected
                                + " after " + options.timeout().toSeconds() + " s");
                    }
                }
                failures.putAll(components(context, tables));

                if (!failures.isEmpty()) {
                    out.print(tables);
                    for (var failure : failures.entrySet()) {
                        err.println("FAILED: " + failure.getKey() + " " + failure.getValue());
                    }
                    err.println(failures.size() + " problem(s): see FAILED lines above.");
                    if (guest != null) {
                        return 1;
                    }
                } else if (options.verbose() || guest == null) {
                    if (options.verbose()) {
                        out.print(tables);
                    }
                    out.println("All " + installed.size() + " bundles are ACTIVE.");
                }

                int status = failures.isEmpty() ? 0 : 1;
                if (guest != null) {
                    if (refused != null) {
                        if (!options.verbose()) {
                            out.print(tables);
                        }
                        err.println("launcher: " + refused);
                        return 1;
                    }
                    status = followGuest(context, guest, tables);
                }
                if (shell && terminal == null) {
                    out.println("Gogo shell: xen:domains, xen:event-list, xen:providers, ... (help xen); exit 0 or Ctrl-D"
                            + " stops the host.");
                    framework.waitForStop(0);
                } else if (options.stay()) {
                    out.println("Framework running; press Ctrl-C to stop.");
                    framework.waitForStop(0);
                }
                return status;
            } finally {
                cleanup();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run: nothing to remove
                }
            }
        }

        /**
         * Waits for the guest's domain to appear, then for its end; prints the reason. Returns
         * the exit status. A component that fails to activate meanwhile (the guest's, whose
         * activation may still have been running when the table was taken) ends the wait: its
         * message is printed and the status is 1.
         */
        private int followGuest(BundleContext context, GuestWatch guest, CharSequence tables)
                throws InterruptedException {
            long deadline = System.nanoTime() + options.timeout().toNanos();
            while (!guest.awaitStarted(START_POLL)) {
                Map<String, String> failed = failedComponents(context);
                if (!failed.isEmpty() || System.nanoTime() > deadline) {
                    if (!options.verbose()) {
                        out.print(tables);
                    }
                    for (var failure : failed.entrySet()) {
                        err.println("FAILED: " + failure.getKey() + " " + failure.getValue());
                    }
                    if (failed.isEmpty()) {
                        String bundle = options.kernel() != null ? "kvm.provider" : "reference.guest";
                        err.println("launcher: no " + options.guestName() + " guest started within "
                                + options.timeout().toSeconds() + " s: is " + bundle + " in " + options.bundles()
                                + " and its component ACTIVE?");
                    }
                    return 1;
                }
            }
            if (options.verbose()) {
                long upMillis = System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
                out.printf("launcher: dom%d running %.2f s after the JVM started%n", GUEST_DOMID, upMillis / 1000.0);
            }
            if (terminal != null) {
                try {
                    terminal.attach(context, guest.reference());
                } catch (ReflectiveOperationException | RuntimeException e) {
                    err.println("launcher: cannot attach to dom" + GUEST_DOMID + "'s console: " + describe(e));
                    return 1;
                }
            }
            Duration limit = options.guestDeadline();
            GuestWatch.End end = guest.awaitEnd(limit);
            if (terminal != null) {
                terminal.close();
            }
            if (end == null) {
                err.println("launcher: dom1 did not shut down within " + limit.toSeconds() + " s ("
                        + options.seconds() + " s of run time and " + SHUTDOWN_SLACK.toSeconds() + " s more)");
                return 1;
            }
            if (end.reason() == null) {
                err.println(stopping()
                        ? "launcher: stopping; dom" + end.domid() + " had not shut down"
                        : "launcher: dom" + end.domid() + " went away before it shut down"
                                + " (its bundle or the host stopped)");
                return 1;
            }
            int status = exitStatus(end.code(), end.failure() != null);
            out.println("dom" + end.domid() + " shut down: " + end.reason() + " (exit status " + status + ")");
            return status;
        }

        private Framework newFramework(Path storage) throws IOException {
            // The runtime's framework properties (cnf/host.bndrun's -runproperties), then this session's.
            Map<String, String> config = new HashMap<>(RunDescription.host().properties());
            // Pass framework settings given as -D through (felix.*, org.osgi.framework.*).
            for (String key : System.getProperties().stringPropertyNames()) {
                if (key.startsWith("felix.") || key.startsWith("org.osgi.framework.")) {
                    config.put(key, System.getProperty(key));
                }
            }
            // Gogo's shell reads standard input only when this session gives one; otherwise
            // (the runtime's gosh.args=--nointeractive) it runs its login script and leaves the
            // console alone.
            if (shell) {
                config.put(GOSH_ARGS, "");
            }
            config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
            config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
            Iterator<FrameworkFactory> factories = ServiceLoader.load(FrameworkFactory.class).iterator();
            if (!factories.hasNext()) {
                throw new IllegalStateException("no OSGi framework on the class path (expected Felix in lib/)");
            }
            return factories.next().newFramework(config);
        }

        private void awaitActive(List<Bundle> bundles, Map<String, String> failures) throws InterruptedException {
            long deadline = System.nanoTime() + options.timeout().toNanos();
            while (System.nanoTime() < deadline) {
                boolean waiting = false;
                for (Bundle bundle : bundles) {
                    if (!isFragment(bundle) && !failures.containsKey(name(bundle))
                            && (bundle.getState() & (Bundle.STARTING | Bundle.INSTALLED | Bundle.RESOLVED)) != 0) {
                        waiting = true;
                    }
                }
                if (!waiting) {
                    return;
                }
                Thread.sleep(50);
            }
        }

        private static void bundleTable(BundleContext context, StringBuilder table) {
            Bundle[] all = context.getBundles();
            int width = "symbolic-name".length();
            for (Bundle b : all) {
                width = Math.max(width, String.valueOf(b.getSymbolicName()).length());
            }
            String format = "%3s  %-11s  %-" + width + "s  %s%n";
            table.append(format.formatted("id", "state", "symbolic-name", "version"));
            for (Bundle b : all) {
                table.append(format.formatted(b.getBundleId(), state(b), b.getSymbolicName(), b.getVersion()));
            }
        }

        /**
         * Appends the table of Declarative Services components to {@code table}, read through the
         * ServiceComponentRuntime by reflection (its API lives in the SCR bundle, not on the
         * launcher's class path). Returns the components that failed to activate.
         */
        private Map<String, String> components(BundleContext context, StringBuilder table)
                throws InterruptedException {
            Map<String, String> failed = new LinkedHashMap<>();
            try {
                // Components settle asynchronously: sample until two samples agree.
                List<String[]> rows = List.of();
                long deadline = System.nanoTime() + options.timeout().toNanos();
                while (true) {
                    Thread.sleep(100);
                    List<String[]> sample = componentRows(context);
                    boolean same = sample.size() == rows.size();
                    for (int i = 0; same && i < sample.size(); i++) {
                        same = java.util.Arrays.equals(sample.get(i), rows.get(i));
                    }
                    rows = sample;
                    if (same || System.nanoTime() > deadline) {
                        break;
                    }
                }
                if (rows.isEmpty()) {
                    return failed;
                }
                table.append(System.lineSeparator());
                int width = "component".length();
                for (String[] r : rows) {
                    width = Math.max(width, r[1].length());
                }
                String format = "%-" + width + "s  %-21s  %s%n";
                table.append(format.formatted("component", "state", "bundle"));
                for (String[] r : rows) {
                    table.append(format.formatted(r[1], r[2], r[0] + (r[3].isEmpty() ? "" : "  (" + r[3] + ")")));
                }
                failed.putAll(failures(rows));
            } catch (ReflectiveOperationException | ClassCastException e) {
                err.println("launcher: cannot list components: " + describe(e));
            }
            return failed;
        }

        /** The components that have failed to activate by now (none if they cannot be read). */
        private Map<String, String> failedComponents(BundleContext context) {
            try {
                return failures(componentRows(context));
            } catch (ReflectiveOperationException | ClassCastException e) {
                return Map.of(); // components() has said so
            }
        }

        private static Map<String, String> failures(List<String[]> rows) {
            Map<String, String> failed = new LinkedHashMap<>();
            for (String[] r : rows) {
                if (r[2].equals("FAILED_ACTIVATION")) {
                    failed.put(r[0], "component " + r[1] + " failed to activate: " + r[3]);
                }
            }
            return failed;
        }

        /**
         * One sample of the components, sorted: {bundle, component, state, detail}; empty if there
         * is no ServiceComponentRuntime.
         */
        private static List<String[]> componentRows(BundleContext context) throws ReflectiveOperationException {
            // getAll...: no class-space check; the launcher does not import the DS API.
            ServiceReference<?>[] refs;
            try {
                refs = context.getAllServiceReferences(SCR_RUNTIME, null);
            } catch (InvalidSyntaxException e) {
                throw new AssertionError(e);
            }
            if (refs == null) {
                return List.of();
            }
            ServiceReference<?> ref = refs[0];
            Object scr = context.getService(ref);
            if (scr == null) {
                return List.of();
            }
            try {
                Class<?> api = ref.getBundle().loadClass(SCR_RUNTIME);
                Method descriptions = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
                Class<?> descriptionType = ref.getBundle()
                        .loadClass("org.osgi.service.component.runtime.dto.ComponentDescriptionDTO");
                Method configurations = api.getMethod("getComponentConfigurationDTOs", descriptionType);
                List<String[]> sample = new ArrayList<>();
                for (Object d : (Collection<?>) descriptions.invoke(scr, (Object) new Bundle[0])) {
                    String component = (String) field(d, "name");
                    Object bundle = field(d, "bundle");
                    String bsn = (String) field(bundle, "symbolicName");
                    Collection<?> configs = (Collection<?>) configurations.invoke(scr, d);
                    if (configs.isEmpty()) {
                        boolean enabled = (Boolean) api.getMethod("isComponentEnabled", descriptionType)
                                .invoke(scr, d);
                        sample.add(new String[] {bsn, component, enabled ? "NO CONFIGURATION" : "DISABLED", ""});
                    }
                    for (Object c : configs) {
                        int state = (Integer) field(c, "state");
                        String detail = "";
                        if (state == 16) {
                            // DS 1.4+: the exception's stack trace (SCR has already logged it).
                            detail = failureSummary(String.valueOf(field(c, "failure")));
                        } else if (state == 2) {
                            List<String> missing = new ArrayList<>();
                            Object unsatisfied = field(c, "unsatisfiedReferences");
                            for (int i = 0; unsatisfied != null && i < Array.getLength(unsatisfied); i++) {
                                missing.add((String) field(Array.get(unsatisfied, i), "name"));
                            }
                            detail = "missing references: " + String.join(", ", missing);
                        }
                        sample.add(new String[] {bsn, component, componentState(state), detail});
                    }
                }
                sample.sort(Comparator.comparing((String[] r) -> r[0]).thenComparing(r -> r[1]));
                return sample;
            } finally {
                context.ungetService(ref);
            }
        }

        /** True once {@link #cleanup()} has begun (e.g. in the shutdown hook, on Ctrl-C). */
        private boolean stopping() {
            return stopping;
        }

        /** Ctrl-A x at the console: the framework stops, and with it the guest. */
        private void quit() {
            stopping = true;
            try {
                framework.stop();
            } catch (BundleException e) {
                err.println("launcher: stopping the framework failed: " + describe(e));
            }
        }

        /** Stops the framework and deletes its storage; runs once, from run() or the shutdown hook. */
        private synchronized void cleanup() {
            if (cleaned) {
                return;
            }
            cleaned = true;
            stopping = true;
            if (terminal != null) {
                terminal.close();
            }
            if (framework != null) {
                try {
                    framework.stop();
                    FrameworkEvent event = framework.waitForStop(Duration.ofSeconds(30).toMillis());
                    if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                        err.println("launcher: the framework did not stop within 30 s");
                    }
                } catch (BundleException | RuntimeException e) {
                    err.println("launcher: stopping the framework failed: " + describe(e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (storage != null) {
                deleteTree(storage);
            }
        }
    }

    /**
     * The line of a component's failure (a stack trace) that says what failed: the first exception
     * in the trace's cause chain that has a message, e.g. the component's own exception inside the
     * InvocationTargetException with which SCR reports a failed constructor; else the first line.
     */
    static String failureSummary(String trace) {
        List<String> exceptions = new ArrayList<>();
        for (String line : trace.strip().lines().toList()) {
            if (exceptions.isEmpty()) {
                exceptions.add(line.strip());
            } else if (line.startsWith("Caused by: ")) {
                exceptions.add(line.substring("Caused by: ".length()).strip());
            }
        }
        for (String e : exceptions) {
            // "some.Exception: message" rather than a bare class name
            int colon = e.indexOf(": ");
            if (colon > 0 && !e.substring(0, colon).contains(" ")) {
                return e;
            }
        }
        return exceptions.isEmpty() ? "" : exceptions.getFirst();
    }

    private static Object field(Object dto, String name) throws ReflectiveOperationException {
        Field f = dto.getClass().getField(name);
        return f.get(dto);
    }

    static boolean isFragment(Bundle bundle) {
        return bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null;
    }

    private static String name(Bundle bundle) {
        String bsn = bundle.getSymbolicName();
        return bsn != null ? bsn : bundle.getLocation();
    }

    static String state(Bundle bundle) {
        return switch (bundle.getState()) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNKNOWN(" + bundle.getState() + ")";
        };
    }

    private static String componentState(int state) {
        return switch (state) {
            case 1 -> "UNSATISFIED_CONFIG";
            case 2 -> "UNSATISFIED_REFERENCE";
            case 4 -> "SATISFIED";
            case 8 -> "ACTIVE";
            case 16 -> "FAILED_ACTIVATION";
            default -> "UNKNOWN(" + state + ")";
        };
    }

    /** The message of a throwable and of its causes. */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c != t) {
                sb.append(" <- caused by ");
            }
            String message = c.getMessage();
            if (c != t || message == null) {
                sb.append(c.getClass().getName());
                if (message != null) {
                    sb.append(": ");
                }
            }
            if (message != null) {
                sb.append(message);
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return sb.toString();
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("launcher: could not delete " + root + ": " + e);
        }
    }
}
