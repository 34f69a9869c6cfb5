package linux.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import kvm.provider.boot.PvhImage;
import org.junit.jupiter.api.Test;

/**
 * {@link StockLinux} for real: Debian's cloud kernel and busybox-static through this host's apt,
 * into the default cache (or the directory the system property {@value #CACHE_PROPERTY} names:
 * give it an empty one to test the fetching itself), then a second time offline, from the cache.
 */
class StockLinuxTest {
    static final String CACHE_PROPERTY = "linux.guest.cache";
    static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

    static Path cache() {
        String p = System.getProperty(CACHE_PROPERTY);
        return p != null && !p.isEmpty() ? Path.of(p) : StockLinux.defaultCache();
    }

    @Test
    void preparesDebiansCloudKernelThenServesItFromTheCache() throws IOException {
        assumeTrue(DebianPackages.onPath("apt-get") != null, "no apt-get on the PATH: not a Debian-based host");
        assumeTrue(DebianPackages.onPath("dpkg-deb") != null, "no dpkg-deb on the PATH: not a Debian-based host");
        Path cache = cache();
        long t = System.nanoTime();
        StockLinux.Guest g;
        try {
            g = new StockLinux(cache, DebianPackages.online()).prepare();
        } catch (DebianPackages.FetchException e) {
            abort("fetching from Debian failed (uid " + DebianPackages.uid() + "): " + e.getMessage());
            return;
        }
        System.out.printf("prepared %s in %.1f s: %s, %s%n", g.release(), (System.nanoTime() - t) / 1e9, g.vmlinux(),
                g.initramfs());

        assertTrue(g.release().matches("\\d+\\.\\d+\\.\\d+-\\d+-cloud-amd64"), g.release());
        assertTrue(g.vmlinux().startsWith(cache.toAbsolutePath()), g.vmlinux().toString());
        byte[] elf = Files.readAllBytes(g.vmlinux());
        assertArrayEquals(ELF_MAGIC, Arrays.copyOf(elf, 4));
        PvhImage image = PvhImage.parse(elf); // an x86 ELF with XEN_ELFNOTE_PHYS32_ENTRY
        assertTrue(image.entry() > 0);
        assertTrue(Files.isRegularFile(g.packageDir().resolve("boot/vmlinuz-" + g.release())));
        assertTrue(Files.isRegularFile(g.modules().resolve("kernel/drivers/block/xen-blkfront.ko")),
                () -> "no xen-blkfront.ko under " + g.modules());

        Map<String, CpioTest.Entry> initramfs = CpioTest.read(Files.readAllBytes(g.initramfs()));
        assertTrue(initramfs.get("init").text().contains(Initramfs.READY));
        byte[] busybox = initramfs.get("bin/busybox").data();
        assertTrue(busybox.length > 500_000, "a static busybox is about 2 MB: " + busybox.length);
        assertArrayEquals(ELF_MAGIC, Arrays.copyOf(busybox, 4));
        assertEquals(5, initramfs.get("dev/console").rdevMajor());
        // The package's own block frontend, for /init to load.
        assertArrayEquals(Files.readAllBytes(g.modules().resolve(StockLinux.BLKFRONT)),
                initramfs.get("lib/modules/xen-blkfront.ko").data());
        // Both scripts parse in the busybox shell that runs them.
        Path dir = Files.createTempDirectory("linux-guest-sh-");
        try {
            Path sh = Files.write(dir.resolve("busybox"), busybox);
            sh.toFile().setExecutable(true);
            for (String script : List.of("init", "bin/disktest")) {
                Path file = Files.write(dir.resolve(script.replace('/', '-')), initramfs.get(script).data());
                Process p = new ProcessBuilder(sh.toString(), "sh", "-n", file.toString()).redirectErrorStream(true).start();
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertEquals(0, p.waitFor(), () -> script + " does not parse: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }

        // Again, offline: a download or an apt-get update would throw. Nothing is rewritten.
        FileTime vmlinuxTime = Files.getLastModifiedTime(g.vmlinux());
        FileTime initramfsTime = Files.getLastModifiedTime(g.initramfs());
        StockLinux.Guest again = new StockLinux(cache, DebianPackages.offline()).prepare();
        assertEquals(g, again);
        assertEquals(vmlinuxTime, Files.getLastModifiedTime(g.vmlinux()));
        assertEquals(initramfsTime, Files.getLastModifiedTime(g.initramfs()));

        // The command line says the same.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = StockLinux.run(new String[] {"--cache", cache.toString(), "--offline"}, print(out), print(err));
        assertEquals(0, status, err::toString);
        assertEquals("vmlinux " + g.vmlinux() + "\ninitramfs " + g.initramfs() + "\nrelease " + g.release() + "\n",
                out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theCommandLineFailsInOneLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, StockLinux.run(new String[] {"--bogus"}, print(out), print(err)));
        assertEquals(0, out.size());
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.startsWith("usage: ") && message.indexOf('\n') == message.length() - 1, message);
    }

    static PrintStream print(ByteArrayOutputStream out) {
        return new PrintStream(out, true, StandardCharsets.UTF_8);
    }
}
