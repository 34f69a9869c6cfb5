package launcher;

import static launcher.MainTest.launch;
import static launcher.MainTest.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import launcher.MainTest.Result;

/**
 * Runs the launcher against target/bundles, which the build fills in phase package (so this runs
 * under Failsafe, in phase integration-test): in-process for the bundles alone, and as
 * {@code java -jar target/launcher.jar} in a JVM of its own to boot the guest, as
 * {@code ./xen-evtchn run} does (the guest prints to the process's standard output, and the exit
 * status is the process's).
 */
class MainIT {
    /**
     * The system bundle and every bundle the build copies into target/bundles: those of the host's
     * runtime, cnf/host.bndrun with its shell part, as the launcher's jar carries it.
     */
    private static final List<String> EXPECTED = expected();

    private static List<String> expected() {
        List<String> all = new ArrayList<>(List.of("org.apache.felix.framework"));
        try {
            all.addAll(RunDescription.host().bundles());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all;
    }

    private static final List<String> COMPONENTS = List.of(
            "kvm.provider.timer.TimerProviderComponent",
            "xen.evtchn.impl.host.HostComponent",
            "xen.evtchn.impl.host.DomainListeners",
            "xen.evtchn.impl.shell.XenCommands",
            "xen.console.ConsoleBackend",
            "xen.store.backend.StoreBackend",
            "xen.bus.core.BusComponent");
    /** The guest booters, which wait for a domain's configuration (none with --no-guest). */
    private static final List<String> BOOTERS = List.of(
            "kvm.provider.launch.PvhGuestLauncher",
            "reference.guest.ReferenceGuestLauncher");

    private static Path builtBundles() {
        String dir = System.getProperty(Main.BUNDLES_PROPERTY);
        assertTrue(dir != null, "Failsafe sets -D" + Main.BUNDLES_PROPERTY);
        return Paths.get(dir);
    }

    @Test
    void startsEveryBuiltBundle() {
        Path bundles = builtBundles();
        Result result = launch("--bundles", bundles.toString(), "--timeout", "20", "--no-guest", "--verbose");

        Map<String, String> states = table(result.out());
        for (String bsn : EXPECTED) {
            assertEquals("ACTIVE", states.get(bsn), bsn + " in\n" + result.out() + result.err());
        }
        assertEquals(EXPECTED.size(), states.size(), "one row per bundle:\n" + result.out());
        for (String component : COMPONENTS) {
            assertTrue(result.out().lines().anyMatch(l -> l.contains(component + " ") && l.contains(" ACTIVE")),
                    component + " ACTIVE in\n" + result.out());
        }
        for (String booter : BOOTERS) {
            assertTrue(result.out().lines().anyMatch(l -> l.contains(booter + " ") && l.contains(" NO CONFIGURATION")),
                    booter + " NO CONFIGURATION in\n" + result.out());
        }
        assertEquals(0, result.status(), result.err());
        assertTrue(result.out().contains("All " + (EXPECTED.size() - 1) + " bundles are ACTIVE."), result.out());
    }

    @Test
    void withoutVerboseOnlyTheVerdictIsPrinted() {
        Result result = launch("--bundles", builtBundles().toString(), "--timeout", "20", "--no-guest");
        assertEquals(0, result.status(), result.err());
        assertEquals("All " + (EXPECTED.size() - 1) + " bundles are ACTIVE." + System.lineSeparator(), result.out());
    }

    /** What a launcher process printed, and when its first guest console line came. */
    private record Process(int status, List<String> out, String err, long firstConsoleMillis) {
    }

    /** Runs {@code java -jar target/launcher.jar ARGS} with the built bundles and nothing on standard input. */
    private static Process launcher(String... args) throws IOException, InterruptedException {
        return launcherWithInput(null, null, args);
    }

    /**
     * Runs {@code java -jar target/launcher.jar ARGS} with the built bundles; {@code whileRunning}
     * goes to standard input once dom1's first event summary (a second into its run) is out, {@code atEnd} once it has
     * shut down (standard input stays open until the process has ended). Null: nothing, and
     * standard input closes at once.
     */
    private static Process launcherWithInput(String whileRunning, String atEnd, String... args)
            throws IOException, InterruptedException {
        String jar = System.getProperty("launcher.jar");
        assertTrue(jar != null && Files.isRegularFile(Paths.get(jar)), "Failsafe sets -Dlauncher.jar: " + jar);
        List<String> command = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-jar", jar, "--bundles", builtBundles().toString()));
        command.addAll(List.of(args));
        Path errFile = Files.createTempFile("launcher-", ".err");
        try {
            long start = System.nanoTime();
            java.lang.Process p = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectError(errFile.toFile()).start();
            // A launcher that never exits must not hang the build: it is killed, and the test fails below.
            Thread.ofPlatform().daemon(true).start(() -> {
                try {
                    if (!p.waitFor(90, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                }
            });
            var stdin = p.getOutputStream();
            if (whileRunning == null) {
                stdin.close();
            }
            List<String> out = new ArrayList<>();
            long first = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (first < 0 && line.contains("[dom1] ")) {
                        first = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    }
                    if (whileRunning != null && line.contains("dom1  t=1s ")) {
                        stdin.write(whileRunning.getBytes(StandardCharsets.UTF_8));
                        stdin.flush();
                    }
                    if (whileRunning != null && line.contains("dom1 shut down: ")) {
                        // Left open: what is written must end the shell by itself.
                        stdin.write(atEnd.getBytes(StandardCharsets.UTF_8));
                        stdin.flush();
                    }
                    System.out.println(line);
                    out.add(line);
                }
            }
            stdin.close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the launcher did not exit within 60 s; it printed:\n" + String.join("\n", out));
            }
            String err = Files.readString(errFile);
            System.err.print(err);
            return new Process(p.exitValue(), out, err, first);
        } finally {
            Files.deleteIfExists(errFile);
        }
    }

    @Test
    void bootsTheReferenceGuestAndExitsWithItsPoweroff() throws IOException, InterruptedException {
        Process run = launcher("--vcpus", "2", "--hz", "100", "--seconds", "2");
        String all = String.join("\n", run.out()) + "\n" + run.err();

        assertEquals(0, run.status(), all);
        assertTrue(run.out().stream().anyMatch(l -> l.startsWith("[dom1] reference guest on Xen 4.17")), all);
        assertTrue(run.out().stream().anyMatch(l -> l.matches("dom1  t=\\d+s  vcpu0 ticks=\\d+ timer=\\d+ ipi-in=\\d+"
                + " ipi-out=\\d+ upcalls=\\d+  vcpu1 .*")), "a summary line:\n" + all);
        assertTrue(run.out().contains("dom1 shut down: poweroff (exit status 0)"), all);
        assertTrue(run.out().stream().noneMatch(l -> l.contains("symbolic-name")), "no bundle table without --verbose");
        assertEquals("", run.err(), "nothing on standard error");
        System.out.println("MainIT: first console line " + run.firstConsoleMillis() + " ms after the launcher's start");
    }

    /** --shell reads Gogo commands from standard input: the host's own and the framework's. */
    @Test
    void theShellRunsCommandsFromStandardInput() throws IOException, InterruptedException {
        // The commands come after the guest has booted and ticked for a while.
        Process run = launcherWithInput("xen:domains\nxen:event-list\nxen:providers\nlb\nxen:event-inject abc\n",
                "exit 0\n", "--shell", "--seconds", "3");
        String all = String.join("\n", run.out()) + "\n" + run.err();
        assertEquals(0, run.status(), "the guest's poweroff, after the shell exits:\n" + all);
        assertTrue(run.out().stream().anyMatch(l -> l.matches(".*dom1 +vcpus 2 +running +ports \\d+ .*")), all);
        assertTrue(run.out().stream().anyMatch(l -> l.matches(".*port +\\d+: vcpu: 0 virq\\(0\\).*")), all);
        assertTrue(run.out().stream().anyMatch(l -> l.contains("timers run on: precise") || l.contains("timers run on: portable")),
                all);
        assertTrue(run.out().stream().anyMatch(l -> l.contains("org.apache.felix.gogo.runtime")
                || l.contains("Apache Felix Gogo Runtime")), "lb lists the bundles:\n" + all);
        assertTrue(all.contains("port must be a number 1..2147483647: got \"abc\""), "a bad argument says why:\n" + all);
        assertTrue(run.out().contains("dom1 shut down: poweroff (exit status 0)"), all);
    }

    /** Without --shell and without a terminal, nothing reads standard input and no prompt appears. */
    @Test
    void withoutATerminalThereIsNoShell() throws IOException, InterruptedException {
        Process run = launcherWithInput("xen:domains\n", "", "--seconds", "1");
        assertEquals(0, run.status(), run.err());
        assertTrue(run.out().stream().noneMatch(l -> l.startsWith("g!") || l.contains("vcpus 2   running")),
                String.join("\n", run.out()));
    }

    /**
     * The test guest's PVH image, as module test.guest builds it (test.guest.TestGuestImage reads
     * the same file); the launcher's tests do not depend on that module, so it is found by path.
     */
    private static Path testGuestImage() {
        Path module = Paths.get(System.getProperty("basedir", System.getProperty("user.dir")));
        return module.resolveSibling("test.guest").resolve(Paths.get("target", "classes", "test", "guest", "xentest.elf"))
                .toAbsolutePath().normalize();
    }

    /** The test guest's image, if it has been built and /dev/kvm is usable; else the test is skipped, saying why. */
    private static Path kernelHere() {
        Path image = testGuestImage();
        assumeTrue(Files.isRegularFile(image), () -> "the test guest image is not built, skipped: " + image);
        Path kvm = Paths.get("/dev/kvm");
        assumeTrue(Files.exists(kvm), "/dev/kvm does not exist, skipped");
        assumeTrue(Files.isReadable(kvm) && Files.isWritable(kvm), "/dev/kvm is not readable and writable, skipped");
        return image;
    }

    /**
     * The launcher on the test guest; the test is skipped if the kernel's component found /dev/kvm
     * unusable (the launcher cannot tell before it starts: it loads no KVM class).
     */
    private static Process kernelRun(String... extra) throws IOException, InterruptedException {
        List<String> args = new java.util.ArrayList<>(List.of("--kernel", kernelHere().toString()));
        args.addAll(List.of(extra));
        Process run = launcher(args.toArray(String[]::new));
        assumeTrue(!run.err().contains("needs KVM, which is not usable here"),
                () -> "KVM not usable here, skipped: " + run.err().lines().filter(l -> l.contains("not usable"))
                        .findFirst().orElse(""));
        return run;
    }

    @Test
    void bootsAKernelOnKvmAndExitsWithItsPoweroff() throws IOException, InterruptedException {
        Process run = kernelRun();
        String all = String.join("\n", run.out()) + "\n" + run.err();

        assertEquals(0, run.status(), all);
        assertTrue(run.out().stream().anyMatch(l -> l.startsWith("[dom1] ") && l.contains("Test result: SUCCESS")), all);
        assertTrue(run.out().contains("dom1 shut down: poweroff (exit status 0)"), all);
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("kvm: dom1: KVM, 1 vCPU(s), 64 MiB, hypercalls trapped")),
                "the KVM path line:\n" + all);
        System.out.println("MainIT: first kernel console line " + run.firstConsoleMillis() + " ms after the launcher's start");
    }

    @Test
    void aKernelThatTripleFaultsExitsOne() throws IOException, InterruptedException {
        Process run = kernelRun("--cmdline", "hostile=triple-fault");
        String all = String.join("\n", run.out()) + "\n" + run.err();

        assertEquals(1, run.status(), all);
        assertTrue(all.contains("triple fault"), all);
        assertTrue(run.out().contains("dom1 shut down: crash (exit status 1)"), all);
    }

    /** The kernel's component fails to activate: the launcher says why and exits 1 at once (KVM or not). */
    @Test
    void aKernelThatIsNoPvhImageExitsOneSayingSo() throws IOException, InterruptedException {
        Path notAnImage = Files.createTempFile("not-pvh-", ".elf");
        try {
            Files.writeString(notAnImage, "not an ELF file, let alone a PVH kernel");
            long start = System.nanoTime();
            Process run = launcher("--kernel", notAnImage.toString(), "--timeout", "20");
            String all = String.join("\n", run.out()) + "\n" + run.err();

            assertEquals(1, run.status(), all);
            assertTrue(run.err().contains("FAILED: kvm.provider component kvm.provider.launch.PvhGuestLauncher failed to"
                    + " activate: java.lang.IllegalArgumentException: configuration xen.domain.kernel: kernel: " + notAnImage.toAbsolutePath()
                    + " is not a PVH kernel image: "), all);
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15), "it did not wait for the timeout");
        } finally {
            Files.deleteIfExists(notAnImage);
        }
    }

    @Test
    void aBadOptionExitsTwoNamingIt() throws IOException, InterruptedException {
        Process run = launcher("--hz", "0");
        assertEquals(2, run.status(), run.err());
        assertTrue(run.err().contains("--hz must be 1..10000: got 0"), run.err());
        assertEquals(List.of(), run.out());
    }
}
