package launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the launcher in-process against broken bundle directories; {@link MainIT} runs the real ones. */
class MainTest {
    record Result(int status, String out, String err) {
    }

    static Result launch(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, tee(out, System.out), tee(err, System.err));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Captures what the launcher prints and still shows it in the test report. */
    private static PrintStream tee(ByteArrayOutputStream capture, PrintStream echo) {
        return new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                capture.write(b);
                echo.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                capture.write(b, off, len);
                echo.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
    }

    /** symbolic-name -> state, from the bundle table. */
    static Map<String, String> table(String out) {
        Map<String, String> states = new HashMap<>();
        for (String line : out.lines().toList()) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length == 4 && cols[0].matches("\\d+")) {
                states.put(cols[2], cols[1]);
            }
        }
        return states;
    }

    @Test
    void failsAndNamesABundleThatCannotResolve(@TempDir Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test.broken");
        main.putValue("Bundle-Version", "1.2.3");
        main.putValue("Import-Package", "no.such.pkg;version=\"[1,2)\"");
        new JarOutputStream(Files.newOutputStream(dir.resolve("broken.jar")), manifest).close();

        Result result = launch("--bundles", dir.toString(), "--timeout", "2");

        assertEquals(1, result.status());
        assertEquals("INSTALLED", table(result.out()).get("test.broken"), result.out());
        assertTrue(result.err().contains("FAILED: test.broken cannot be started"), result.err());
        assertTrue(result.err().contains("no.such.pkg"), "the reason is given:\n" + result.err());
    }

    /** A bundle whose activator throws: see {@link FailingActivator}. */
    @Test
    void failsAndSaysWhyABundleCannotStart(@TempDir Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test.failing");
        main.putValue("Bundle-Activator", FailingActivator.class.getName());
        main.putValue("Import-Package", "org.osgi.framework");
        String entry = FailingActivator.class.getName().replace('.', '/') + ".class";
        try (var jar = new JarOutputStream(Files.newOutputStream(dir.resolve("failing.jar")), manifest);
                var in = MainTest.class.getClassLoader().getResourceAsStream(entry)) {
            jar.putNextEntry(new JarEntry(entry));
            in.transferTo(jar);
        }

        Result result = launch("--bundles", dir.toString(), "--timeout", "2");

        assertEquals(1, result.status());
        assertEquals("RESOLVED", table(result.out()).get("test.failing"), result.out());
        assertTrue(result.err().contains("FAILED: test.failing cannot be started"), result.err());
        assertTrue(result.err().contains(FailingActivator.MESSAGE), "the cause is given:\n" + result.err());
    }

    @Test
    void failsOnAMissingOrEmptyDirectory(@TempDir Path dir) {
        Result missing = launch("--bundles", dir.resolve("nowhere").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nowhere"), missing.err());

        Result empty = launch("--bundles", dir.toString());
        assertEquals(1, empty.status());
        assertTrue(empty.err().contains("no bundle jars"), empty.err());
    }

    @Test
    void rejectsUnknownArguments() {
        Result result = launch("--bogus");
        assertEquals(2, result.status());
        assertTrue(result.err().contains("unknown argument: --bogus"), result.err());
    }

    @Test
    void bootsTheDefaultGuestUnlessToldNotTo() throws Main.UsageException {
        Main.Options o = Main.parse(new String[] {"--bundles", "b"});
        assertTrue(o.guest() && o.ipis() && !o.stay() && !o.verbose());
        assertEquals(List.of(2, 100, 5), List.of(o.vcpus(), o.hz(), o.seconds()));
        assertEquals("xen.domain.reference", o.guestPid());
        assertEquals(Map.of("domid", 1, "vcpus", 2, "hz", 100, "seconds", 5, "ipis", true), o.guestConfiguration(),
                "typed as the booter's metatype says");
        assertEquals(Duration.ofSeconds(65), o.guestDeadline());

        Main.Options none = Main.parse(new String[] {"--bundles", "b", "--no-guest", "--stay", "--verbose"});
        assertTrue(!none.guest() && none.stay() && none.verbose());
        assertEquals(Map.of(), none.guestConfiguration(), "no configuration: no booter runs");
    }

    @Test
    void readsTheGuestOptionsInBothForms() throws Main.UsageException {
        Main.Options o = Main.parse(new String[] {"--bundles=b", "--vcpus", "64", "--hz=10000", "--seconds", "86400",
                "--no-ipis", "--timeout=7"});
        assertEquals(List.of(64, 10_000, 86_400), List.of(o.vcpus(), o.hz(), o.seconds()));
        assertFalse(o.ipis());
        assertEquals(Duration.ofSeconds(7), o.timeout());
        assertEquals(false, o.guestConfiguration().get("ipis"));
        assertEquals(64, o.guestConfiguration().get("vcpus"));
    }

    @Test
    void fifoPortsGoToTheReferenceGuestOnly() throws Main.UsageException {
        Main.Options o = Main.parse(new String[] {"--bundles", "b", "--vcpus", "4", "--fifo-ports", "100000"});
        assertEquals(100_000, o.guestConfiguration().get("fifo.ports"));
        assertEquals(Map.of("domid", 1, "vcpus", 4, "hz", 100, "seconds", 5, "ipis", true, "fifo.ports", 100_000),
                o.guestConfiguration());
        Main.UsageException e = assertThrows(Main.UsageException.class,
                () -> Main.parse(new String[] {"--bundles", "b", "--fifo-ports", "130944"}));
        assertTrue(e.getMessage().contains("--fifo-ports"), e.getMessage());
    }

    @Test
    void theShellIsOnATerminalUnlessForcedOrRefused() throws Main.UsageException {
        Main.Options auto = Main.parse(new String[] {"--bundles", "b"});
        assertTrue(auto.shellWanted(true) && !auto.shellWanted(false), "by default: on a terminal only");
        Main.Options on = Main.parse(new String[] {"--bundles", "b", "--shell"});
        assertTrue(on.shellWanted(false), "--shell: also on a pipe");
        Main.Options off = Main.parse(new String[] {"--bundles", "b", "--no-shell"});
        assertFalse(off.shellWanted(true), "--no-shell: not even on a terminal");
        assertUsage("--shell and --no-shell contradict each other", "--shell", "--no-shell");
        assertUsage("--shell takes no value", "--shell=yes");
    }

    @Test
    void badOptionValuesExitTwoNamingTheOption() {
        assertUsage("--vcpus must be 1..64: got 0", "--vcpus", "0");
        assertUsage("--vcpus must be 1..64: got 65", "--vcpus", "65");
        assertUsage("--hz must be 1..10000: got 0", "--hz", "0");
        assertUsage("--hz must be 1..10000: got 10001", "--hz=10001");
        assertUsage("--seconds must be 1..86400: got 86401", "--seconds", "86401");
        assertUsage("--seconds needs a whole number, not \"5s\"", "--seconds", "5s");
        assertUsage("--timeout must be 1..86400: got 0", "--timeout", "0");
        assertUsage("--hz needs a value", "--hz");
        assertUsage("--no-ipis takes no value", "--no-ipis=yes");
        assertUsage("--hz, --no-ipis are for the guest, and --no-guest boots none", "--no-guest", "--hz", "5", "--no-ipis");
    }

    @Test
    void readsTheKernelOptions(@TempDir Path dir) throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinux"), new byte[] {0x7f, 'E', 'L', 'F'});
        Main.Options o = Main.parse(new String[] {"--bundles", "b", "--kernel", kernel.toString()});
        assertEquals(kernel.toAbsolutePath(), o.kernel());
        assertEquals("kernel", o.guestName());
        assertEquals(List.of(1, 64), List.of(o.vcpus(), o.memory()), "one vCPU and 64 MiB by default");
        assertEquals("", o.cmdline());
        assertEquals("xen.domain.kernel", o.guestPid());
        assertEquals(Map.of("domid", 1, "kernel", kernel.toAbsolutePath().toString(), "cmdline", "", "vcpus", 1,
                "memory", 64), o.guestConfiguration());
        assertEquals("(&(xen.domain=*)(xen.guest=kernel))", o.guestFilter());
        assertEquals(null, o.guestDeadline(), "a kernel runs until it shuts down");

        Main.Options all = Main.parse(new String[] {"--bundles", "b", "--kernel=" + kernel, "--cmdline",
                "console=hvc0 hostile=triple-fault", "--memory=65536", "--vcpus", "4"});
        assertEquals(Map.of("domid", 1, "kernel", kernel.toAbsolutePath().toString(), "cmdline",
                "console=hvc0 hostile=triple-fault", "vcpus", 4, "memory", 65536), all.guestConfiguration());
        assertEquals("", Main.parse(new String[] {"--kernel", kernel.toString(), "--cmdline="}).cmdline());

        Path initrd = Files.write(dir.resolve("initrd.cpio"), new byte[] {7});
        Main.Options linux = Main.parse(new String[] {"--kernel", kernel.toString(), "--initrd", initrd.toString(),
                "--console"});
        assertTrue(linux.console());
        assertEquals(Map.of("domid", 1, "kernel", kernel.toAbsolutePath().toString(), "cmdline", "", "vcpus", 1,
                "memory", 64, "initrd", initrd.toAbsolutePath().toString(), "console.lines", false),
                linux.guestConfiguration(), "the terminal shows the raw console: no [dom1] lines");

        Main.Options reference = Main.parse(new String[] {"--bundles", "b"});
        assertEquals("reference", reference.guestName());
        assertEquals(null, reference.kernel());
        assertEquals("(&(xen.domain=*)(xen.guest=reference))", reference.guestFilter());
    }

    @Test
    void disksGoToTheKernelsConfigurationWithAbsoluteFiles(@TempDir Path dir) throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1});
        Path a = Files.write(dir.resolve("a.img"), new byte[512]);
        Path b = Files.write(dir.resolve("b.img"), new byte[512]);
        Main.Options o = Main.parse(new String[] {"--kernel", kernel.toString(), "--disk", a.toString(),
                "--disk=" + b + ",ro,vdev=xvdc"});
        assertEquals(List.of(a.toString(), b + ",ro,vdev=xvdc"), o.disks());
        assertArrayEquals(new String[] {a.toString(), b + ",ro,vdev=xvdc"}, (String[]) o.guestConfiguration().get("disk"),
                "a String[], Config Admin's multi-valued property");
        assertEquals(null, Main.parse(new String[] {"--kernel", kernel.toString()}).guestConfiguration().get("disk"),
                "no disk, no property");
        // A relative file becomes absolute (the launcher's module directory holds pom.xml); options pass as given.
        assertEquals(List.of(Path.of("pom.xml").toAbsolutePath() + ", rw,bogus"),
                Main.parse(new String[] {"--kernel", kernel.toString(), "--disk", " pom.xml , rw,bogus"}).disks(),
                "options are the booter's to check");
    }

    @Test
    void consolesGoToTheKernelsConfiguration(@TempDir Path dir) throws Exception {
        String kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1}).toString();
        assertEquals(3, Main.parse(new String[] {"--kernel", kernel, "--consoles", "3"}).guestConfiguration().get("consoles"));
        assertEquals(null, Main.parse(new String[] {"--kernel", kernel}).guestConfiguration().get("consoles"),
                "none, no property");
        assertUsage("--consoles must be 1..15: got 16", "--kernel", kernel, "--consoles", "16");
        assertUsage("--consoles must be 1..15: got 0", "--kernel", kernel, "--consoles=0");
        assertUsage("--consoles is for --kernel", "--consoles", "2");
    }

    @Test
    void aMissingOrUnreadableDiskIsBadUsage(@TempDir Path dir) throws IOException {
        String kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1}).toString();
        String image = Files.write(dir.resolve("disk.img"), new byte[512]).toString();
        Path missing = dir.resolve("nowhere.img");
        assertUsage("--disk: no such file: " + missing, "--kernel", kernel, "--disk", missing + ",ro");
        assertUsage("--disk: not a regular file: " + dir, "--kernel", kernel, "--disk", dir.toString());
        assertUsage("--disk needs a file", "--kernel", kernel, "--disk", ",ro");
        assertUsage("--disk needs a value", "--kernel", kernel, "--disk");
        assertUsage("--disk is for --kernel", "--disk", image, "--disk", image);
        assertUsage("--disk is for the guest, and --no-guest boots none", "--no-guest", "--disk", image);
    }

    @Test
    void aRelativeKernelPathBecomesAbsolute() throws Exception {
        // The launcher's module directory holds pom.xml: a readable file by a relative path.
        Main.Options o = Main.parse(new String[] {"--kernel", "pom.xml"});
        assertTrue(o.kernel().isAbsolute(), o.kernel().toString());
        assertEquals(Path.of("pom.xml").toAbsolutePath(), o.kernel());
        assertEquals(o.kernel().toString(), o.guestConfiguration().get("kernel"));
    }

    @Test
    void badKernelOptionsExitTwoNamingTheOptionOrFile(@TempDir Path dir) throws IOException {
        String kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1}).toString();
        Path missing = dir.resolve("nowhere");
        assertUsage("--kernel: no such file: " + missing, "--kernel", missing.toString());
        assertUsage("--kernel: not a regular file: " + dir, "--kernel", dir.toString());
        assertUsage("--kernel needs a file", "--kernel", " ");
        assertUsage("--kernel needs a value", "--kernel");
        assertUsage("--kernel is for the guest, and --no-guest boots none", "--no-guest", "--kernel", kernel);
        assertUsage("--hz is for the reference guest, not for --kernel", "--kernel", kernel, "--hz", "5");
        assertUsage("--seconds, --no-ipis are for the reference guest, not for --kernel", "--seconds", "3",
                "--no-ipis", "--kernel", kernel);
        assertUsage("--cmdline is for --kernel", "--cmdline", "quiet");
        assertUsage("--cmdline, --memory are for --kernel", "--cmdline", "quiet", "--memory", "128");
        assertUsage("--memory must be 1..65536: got 0", "--kernel", kernel, "--memory", "0");
        assertUsage("--memory must be 1..65536: got 65537", "--kernel", kernel, "--memory=65537");
        assertUsage("--memory needs a whole number, not \"1G\"", "--kernel", kernel, "--memory", "1G");
        assertUsage("--cmdline must be ASCII without NUL: character U+00E9 at index 4", "--kernel", kernel,
                "--cmdline", "cafx\u00e9");
        assertUsage("--cmdline is 4096 characters long, at most 4095", "--kernel", kernel, "--cmdline",
                "x".repeat(4096));
        assertUsage("--vcpus must be 1..64: got 65", "--kernel", kernel, "--vcpus", "65");
        assertUsage("--initrd: no such file: " + missing, "--kernel", kernel, "--initrd", missing.toString());
        assertUsage("--initrd, --console are for --kernel", "--initrd", kernel, "--console");
        assertUsage("--console takes no value", "--kernel", kernel, "--console=yes");
    }

    /** SCR reports a component's failed constructor as an InvocationTargetException: its cause is what counts. */
    @Test
    void aFailedComponentIsSummedUpByTheExceptionWithAMessage() {
        String trace = """
                java.lang.reflect.InvocationTargetException
                	at java.base/jdk.internal.reflect.DirectConstructorHandleAccessor.newInstance(X.java:74)
                	at launcher.Main.main(Main.java:144)
                Caused by: java.lang.IllegalArgumentException: configuration xen.domain.kernel: kernel: /k is not a PVH kernel image: bad ELF magic at offset 0
                	at kvm.provider.launch.PvhGuestSettings.image(PvhGuestSettings.java:116)
                	... 51 more
                Caused by: java.lang.IllegalArgumentException: bad ELF magic at offset 0
                	at kvm.provider.boot.PvhImage$ElfReader.header(PvhImage.java:144)
                """;
        assertEquals("java.lang.IllegalArgumentException: configuration xen.domain.kernel: kernel: /k is not a PVH kernel image: bad ELF magic at offset 0",
                Main.failureSummary(trace));
        assertEquals("java.lang.IllegalStateException: no", Main.failureSummary("java.lang.IllegalStateException: no\n\tat x(Y.java:1)\n"));
        assertEquals("java.lang.NullPointerException", Main.failureSummary("java.lang.NullPointerException\n\tat x(Y.java:1)\n"));
        assertEquals("", Main.failureSummary("  "));
    }

    private static void assertUsage(String message, String... args) {
        Result result = launch(args);
        assertEquals(2, result.status(), result.err());
        assertEquals("launcher: " + message + " (--help lists the options)" + System.lineSeparator(), result.err());
        assertEquals("", result.out());
    }

    @Test
    void helpListsTheGuestOptionsAndTheExitStatus() {
        Result result = launch("--help");
        assertEquals(0, result.status());
        for (String option : List.of("--vcpus N", "--hz N", "--seconds N", "--no-ipis", "--no-guest", "--stay",
                "--verbose", "--kernel FILE", "--cmdline STRING", "--disk FILE[,ro|rw][,vdev=xvdX]", "--memory MIB", "1..65536", "0 poweroff",
                "1 crash or watchdog", "2 reboot or suspend")) {
            assertTrue(result.out().contains(option), option + " in\n" + result.out());
        }
    }

    /** The documented mapping from SchedOp.SHUTDOWN_* to the exit status. */
    @Test
    void exitStatusFollowsTheShutdownReason() {
        assertEquals(0, Main.exitStatus(0, false), "poweroff");
        assertEquals(2, Main.exitStatus(1, false), "reboot");
        assertEquals(2, Main.exitStatus(2, false), "suspend");
        assertEquals(1, Main.exitStatus(3, false), "crash");
        assertEquals(1, Main.exitStatus(4, false), "watchdog");
        assertEquals(1, Main.exitStatus(5, false), "soft_reset never ends a guest: unexpected");
        assertEquals(1, Main.exitStatus(-1, false), "unknown");
        assertEquals(1, Main.exitStatus(0, true), "a failed guest, whatever its reason");
    }

    /** A directory whose bundles start but hold no guest: the launcher says so instead of waiting. */
    @Test
    void failsWithoutConfigAdminToBootTheGuest(@TempDir Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test.empty");
        new JarOutputStream(Files.newOutputStream(dir.resolve("empty.jar")), manifest).close();

        Result result = launch("--bundles", dir.toString(), "--timeout", "1");

        assertEquals(1, result.status(), result.err());
        assertTrue(result.err().contains("launcher: no org.osgi.service.cm.ConfigurationAdmin service: is"
                + " org.apache.felix.configadmin among the bundles?"), result.err());
        assertEquals("ACTIVE", table(result.out()).get("test.empty"), "the table is printed:\n" + result.out());

        Path kernel = Files.write(dir.resolve("vmlinux"), new byte[] {1});
        Result kernelRun = launch("--bundles", dir.toString(), "--timeout", "1", "--kernel", kernel.toString());
        assertEquals(1, kernelRun.status(), kernelRun.err());
        assertTrue(kernelRun.err().contains("no org.osgi.service.cm.ConfigurationAdmin service"), kernelRun.err());
    }
}
