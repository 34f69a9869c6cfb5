package linux.guest;

import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kvm.provider.boot.GuestSpeed;
import kvm.provider.boot.KernelImage;
import kvm.provider.boot.PvhImage;
import kvm.provider.timer.PortableTimerProvider;
import kvm.provider.xen.KvmConfig;
import kvm.provider.xen.KvmGuest;
import xen.console.ConsoleBackend;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.host.GuestConsole;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.StoreBackend;

/**
 * Debian's kernel booted on KVM under a whole host (event channels, timers, the console backend, xenstore,
 * and with disks the bus and the vbd backend),
 * driven through its console ring as a person at its terminal would: read what it prints, type.
 */
final class LinuxSession implements AutoCloseable {
    /** The kernel's command line: its console on the PV console, early messages by console_io. */
    static final String CMDLINE = "console=hvc0 earlyprintk=xen loglevel=6";
    static final long RAM = 256L << 20;
    /** busybox's prompt as root, "/ # ", and the cursor position query its line editing sends after it. */
    static final String PROMPT = "# (?:\\x1b\\[6n)?$";
    static final Duration BOOT = Duration.ofSeconds(300);
    static final Duration COMMAND = Duration.ofSeconds(60);

    /** Debian's kernel and initramfs, once prepared. */
    private static StockLinux.Guest prepared;

    final PortableTimerProvider timers = new PortableTimerProvider();
    /** Counting events per port (xen:stats), so that a test can hold them against the guest's counts. */
    final HostComponent host = new HostComponent(timers, true);
    private final ConsoleBackend consoles;
    private final StoreBackend store;
    /** The bus and the vbd backend, if the guest has disks. */
    private final DiskDevices devices;
    final List<String> log = new CopyOnWriteArrayList<>();
    private final Output output = new Output();
    final KvmGuest guest;
    private final GuestConsole console;
    /** Where in the output the next {@link #expect} starts looking. */
    private int seen;

    /** -Dlinux.echo=true copies the guest's console to standard error as it comes, to watch a boot. */
    private static final boolean ECHO = Boolean.getBoolean("linux.echo");

    /** An output buffer that wakes {@link #expect}. */
    private static final class Output extends ByteArrayOutputStream {
        @Override
        public synchronized void write(byte[] b, int off, int len) {
            super.write(b, off, len);
            if (ECHO) {
                System.err.write(b, off, len);
                System.err.flush();
            }
            notifyAll();
        }

        synchronized String text() {
            return toString(StandardCharsets.ISO_8859_1);
        }
    }

    /**
     * Debian's kernel and the busybox initramfs, fetched once and cached; skips the calling test,
     * naming what is missing, without a usable /dev/kvm, without apt-get/dpkg-deb, or when the
     * packages cannot be fetched.
     */
    static synchronized StockLinux.Guest stockLinux() throws IOException {
        String why = GuestSpeed.emulationReason();
        assumeTrue(why == null, () -> "skipped: " + why);
        assumeTrue(DebianPackages.onPath("apt-get") != null && DebianPackages.onPath("dpkg-deb") != null,
                "no apt-get/dpkg-deb: Debian's kernel cannot be had here, skipped");
        if (prepared == null) {
            try {
                prepared = new StockLinux(StockLinuxTest.cache(), DebianPackages.online()).prepare();
            } catch (DebianPackages.FetchException e) {
                abort("Debian's kernel could not be fetched, skipped: " + e.getMessage());
            }
        }
        return prepared;
    }

    LinuxSession(StockLinux.Guest linux, int vcpus) throws IOException {
        this(linux, vcpus, "", List.of());
    }

    /**
     * Debian's kernel with {@code moreCmdline} after {@link #CMDLINE} and {@code disks} on
     * xen-bus: each image checked, then the bus and the vbd backend wired on this host
     * ({@link DiskDevices}) and each disk added to the domain before its vCPUs run, as the kernel
     * booter does.
     */
    LinuxSession(StockLinux.Guest linux, int vcpus, String moreCmdline, List<DiskSpec> disks) throws IOException {
        disks.forEach(DiskSpec::check);
        consoles = new ConsoleBackend(host, host, log::add);
        host.addListener(consoles);
        store = new StoreBackend(host, host, host, log::add);
        host.addListener(store);
        devices = disks.isEmpty() ? null : new DiskDevices(host, store, log::add);
        PvhImage image = PvhImage.parse(KernelImage.elf(Files.readAllBytes(linux.vmlinux())));
        KvmConfig config = KvmConfig.of(vcpus, RAM, log::add).withIrqchip(true);
        String cmdline = moreCmdline.isEmpty() ? CMDLINE : CMDLINE + " " + moreCmdline;
        try {
            guest = KvmGuest.boot(host, 1, config, image, cmdline, Files.readAllBytes(linux.initramfs()), null,
                    line -> { }, domain -> disks.forEach(d -> devices.bus().add(d.nodes(domain.domid()))));
        } catch (RuntimeException | Error e) {
            if (devices != null) {
                devices.close();
            }
            timers.close();
            throw e;
        }
        console = guest.domain().console();
        console.attach(output);
    }

    /**
     * Waits up to {@code timeout} for {@code regex} in what the guest printed since the last
     * match; returns the match. Fails with everything printed and the host's log.
     */
    Matcher expect(String regex, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex, Pattern.MULTILINE);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (output) {
            while (true) {
                Matcher m = p.matcher(output.text());
                if (m.find(seen)) {
                    seen = m.end();
                    return m;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || guest.backend().failure().isPresent()) {
                    throw new AssertionError("no /" + regex + "/ within " + timeout + "\n" + this);
                }
                output.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** Waits for the initramfs's shell prompt. */
    void awaitShell() throws InterruptedException {
        expect(Pattern.quote(Initramfs.READY), BOOT);
        expect(PROMPT, BOOT);
    }

    /** Types {@code command} at the prompt and waits for the next; returns what came between (its echo first). */
    String run(String command) throws InterruptedException {
        int from;
        synchronized (output) {
            from = seen;
        }
        type(command);
        Matcher prompt = expect(PROMPT, COMMAND);
        return printed().substring(from, prompt.start());
    }

    /** Types {@code line} and a newline at the guest's console. */
    void type(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
        int n = console.type(bytes, 0, bytes.length);
        if (n != bytes.length) {
            throw new AssertionError("the console took " + n + " of " + bytes.length + " bytes");
        }
    }

    /** The bus and vbd backend of a session with disks (null without). */
    DiskDevices devices() {
        return devices;
    }

    /** Everything the guest printed so far. */
    String printed() {
        return output.text();
    }

    @Override
    public String toString() {
        return "--- console ---\n" + output.text() + "\n--- host log ---\n" + String.join("\n", log);
    }

    @Override
    public void close() {
        try {
            guest.close();
            if (devices != null) {
                devices.close();
            }
        } finally {
            timers.close();
        }
    }
}
