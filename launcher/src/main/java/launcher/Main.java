package launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
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

/**
 * Embeds an OSGi framework (Apache Felix), installs and starts every bundle jar in a directory,
 * and prints the state of each bundle and Declarative Services component.
 * <p>
 * Without {@code --stay} it then stops the framework; the exit status is 0 if every bundle is
 * ACTIVE (fragments: RESOLVED) and no component failed to activate, 1 otherwise, 2 for bad usage.
 * With {@code --stay} it runs until the framework is stopped; Ctrl-C stops it cleanly.
 */
public final class Main {
    /** System property naming the bundle directory (the {@code --bundles} option wins). */
    public static final String BUNDLES_PROPERTY = "launcher.bundles";

    private static final String USAGE = """
            usage: java -jar launcher/target/launcher.jar [--bundles DIR] [--stay] [--timeout SECONDS]
              --bundles DIR      start every *.jar in DIR (default: -D%s, else the bundles/
                                 directory next to launcher.jar, else launcher/target/bundles)
              --stay             keep running until the framework stops (Ctrl-C stops it)
              --timeout SECONDS  how long to wait for bundles and components (default 30)
            Exit status: 0 all bundles ACTIVE, 1 a bundle or component failed, 2 bad usage.
            """.formatted(BUNDLES_PROPERTY);

    private static final String SCR_RUNTIME = "org.osgi.service.component.runtime.ServiceComponentRuntime";

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    record Options(Path bundles, boolean stay, Duration timeout, boolean help) {
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
        Duration timeout = Duration.ofSeconds(30);
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "--stay" -> stay = true;
                case "-h", "--help" -> help = true;
                case "--bundles", "--timeout" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    if (arg.equals("--bundles")) {
                        bundles = Paths.get(value);
                    } else {
                        try {
                            timeout = Duration.ofSeconds(Long.parseLong(value));
                        } catch (NumberFormatException e) {
                            throw new UsageException("--timeout needs a number of seconds, not " + value);
                        }
                    }
                }
                default -> throw new UsageException("unknown argument: " + args[i]);
            }
        }
        if (bundles == null) {
            bundles = defaultBundles();
        }
        return new Options(bundles.toAbsolutePath().normalize(), stay, timeout, help);
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
            err.println("launcher: " + e.getMessage());
            err.print(USAGE);
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

        Session(Options options, PrintStream out, PrintStream err) {
            this.options = options;
            this.out = out;
            this.err = err;
        }

        int run(List<Path> jars) throws BundleException, IOException, InterruptedException {
            storage = Files.createTempDirectory("xen-evtchn-felix-");
            Thread hook = new Thread(this::cleanup, "launcher-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
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
                awaitActive(installed, failures);

                printBundles(context);
                for (Bundle bundle : installed) {
                    String expected = isFragment(bundle) ? "RESOLVED" : "ACTIVE";
                    if (!state(bundle).equals(expected) && !failures.containsKey(name(bundle))) {
                        failures.put(name(bundle), "is " + state(bundle) + ", not " + expected
                                + " after " + options.timeout().toSeconds() + " s");
                    }
                }
                failures.putAll(components(context));

                for (var failure : failures.entrySet()) {
                    err.println("FAILED: " + failure.getKey() + " " + failure.getValue());
                }
                if (failures.isEmpty()) {
                    out.println("All " + installed.size() + " bundles are ACTIVE.");
                } else {
                    err.println(failures.size() + " problem(s): see FAILED lines above.");
                }

                if (options.stay()) {
                    out.println("Framework running; press Ctrl-C to stop.");
                    framework.waitForStop(0);
                }
                return failures.isEmpty() ? 0 : 1;
            } finally {
                cleanup();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or has run: nothing to remove
                }
            }
        }

        private Framework newFramework(Path storage) {
            Map<String, String> config = new HashMap<>();
            // Pass framework settings given as -D through (felix.*, org.osgi.framework.*).
            for (String key : System.getProperties().stringPropertyNames()) {
                if (key.startsWith("felix.") || key.startsWith("org.osgi.framework.")) {
                    config.put(key, System.getProperty(key));
                }
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

        private void printBundles(BundleContext context) {
            Bundle[] all = context.getBundles();
            int width = "symbolic-name".length();
            for (Bundle b : all) {
                width = Math.max(width, String.valueOf(b.getSymbolicName()).length());
            }
            String format = "%3s  %-11s  %-" + width + "s  %s%n";
            out.printf(format, "id", "state", "symbolic-name", "version");
            for (Bundle b : all) {
                out.printf(format, b.getBundleId(), state(b), b.getSymbolicName(), b.getVersion());
            }
        }

        /**
         * Prints Declarative Services components, read through the ServiceComponentRuntime by
         * reflection (its API lives in the SCR bundle, not on the launcher's class path). Returns
         * the components that failed to activate.
         */
        private Map<String, String> components(BundleContext context) throws InterruptedException {
            Map<String, String> failed = new LinkedHashMap<>();
            // getAll...: no class-space check; the launcher does not import the DS API.
            ServiceReference<?>[] refs;
            try {
                refs = context.getAllServiceReferences(SCR_RUNTIME, null);
            } catch (InvalidSyntaxException e) {
                throw new AssertionError(e);
            }
            if (refs == null) {
                return failed;
            }
            ServiceReference<?> ref = refs[0];
            Object scr = context.getService(ref);
            if (scr == null) {
                return failed;
            }
            try {
                Class<?> api = ref.getBundle().loadClass(SCR_RUNTIME);
                Method descriptions = api.getMethod("getComponentDescriptionDTOs", Bundle[].class);
                Class<?> descriptionType = ref.getBundle()
                        .loadClass("org.osgi.service.component.runtime.dto.ComponentDescriptionDTO");
                Method configurations = api.getMethod("getComponentConfigurationDTOs", descriptionType);

                // Components settle asynchronously: sample until two samples agree.
                List<String[]> rows = List.of();
                long deadline = System.nanoTime() + options.timeout().toNanos();
                while (true) {
                    Thread.sleep(100);
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
                                // DS 1.4+: the exception's stack trace; its first line says enough
                                // (SCR has already logged the whole trace).
                                detail = String.valueOf(field(c, "failure")).strip().lines()
                                        .findFirst().orElse("");
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
                out.println();
                int width = "component".length();
                for (String[] r : rows) {
                    width = Math.max(width, r[1].length());
                }
                String format = "%-" + width + "s  %-21s  %s%n";
                out.printf(format, "component", "state", "bundle");
                for (String[] r : rows) {
                    out.printf(format, r[1], r[2], r[0] + (r[3].isEmpty() ? "" : "  (" + r[3] + ")"));
                    if (r[2].equals("FAILED_ACTIVATION")) {
                        failed.put(r[0], "component " + r[1] + " failed to activate: " + r[3]);
                    }
                }
            } catch (ReflectiveOperationException | ClassCastException e) {
                err.println("launcher: cannot list components: " + describe(e));
            } finally {
                context.ungetService(ref);
            }
            return failed;
        }

        /** Stops the framework and deletes its storage; runs once, from run() or the shutdown hook. */
        private synchronized void cleanup() {
            if (cleaned) {
                return;
            }
            cleaned = true;
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
