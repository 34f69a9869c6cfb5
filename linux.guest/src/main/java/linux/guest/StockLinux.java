package linux.guest;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import kvm.provider.boot.KernelImage;

/**
 * A stock Debian guest for the VMM: Debian's current cloud kernel (the package the metapackage
 * linux-image-cloud-amd64 depends on) as an ELF vmlinux, and a busybox initramfs. Everything goes
 * into a cache directory keyed by the kernel package and version:
 * <pre>
 * CACHE/linux-image-6.1.0-57-cloud-amd64_6.1.192-3/package/         the unpacked kernel package
 * CACHE/linux-image-6.1.0-57-cloud-amd64_6.1.192-3/vmlinux          the ELF, from boot/vmlinuz-*
 * CACHE/linux-image-6.1.0-57-cloud-amd64_6.1.192-3/initramfs-2.cpio   busybox, xen-blkfront from the package
 * CACHE/busybox-static_1%3a1.35.0-4+deb12u1+b1/package/
 * </pre>
 * What is there is reused: once prepared, only the local package lists are read (to learn which
 * kernel is current), never the network. Each file appears whole or not at all (written beside,
 * then renamed). The initramfs's name carries a number that changes with what goes into it, so an
 * older one in the cache is not taken for the current.
 * <p>
 * The initramfs holds the kernel package's own xen-blkfront module (Linux's Xen block frontend,
 * {@value #BLKFRONT}: a module in Debian's cloud kernels, CONFIG_XEN_BLKDEV_FRONTEND=m), which its
 * /init loads, so that a disk (a vbd) shows as /dev/xvda; Debian compresses modules with xz from
 * its 6.x kernels of trixie on, which /init unpacks with busybox's unxz. A kernel that has the
 * frontend built in needs no module.
 */
public final class StockLinux {
    public static final String KERNEL_METAPACKAGE = "linux-image-cloud-amd64";
    public static final String BUSYBOX = "busybox-static";
    static final String VMLINUX = "vmlinux";
    /** 2: with xen-blkfront and /bin/disktest. */
    static final String INITRAMFS = "initramfs-2.cpio";
    /** The block frontend in the package's modules directory (.ko, or .ko.xz). */
    static final String BLKFRONT = "kernel/drivers/block/xen-blkfront.ko";
    /** The kernel configuration option of the block frontend. */
    static final String BLKFRONT_CONFIG = "CONFIG_XEN_BLKDEV_FRONTEND";
    static final String PACKAGE = "package";

    /**
     * A prepared guest: the ELF kernel, the initramfs, the kernel's release (its
     * lib/modules/RELEASE) and the unpacked kernel package, where its modules are.
     */
    public record Guest(Path vmlinux, Path initramfs, String release, Path packageDir) {
        /** The package's modules directory, lib/modules/RELEASE (usr/lib/modules on newer Debian). */
        public Path modules() {
            Path lib = packageDir.resolve("lib/modules").resolve(release);
            return Files.isDirectory(lib) ? lib : packageDir.resolve("usr/lib/modules").resolve(release);
        }
    }

    private final Path cache;
    private final DebianPackages packages;

    public StockLinux(Path cache, DebianPackages packages) {
        this.cache = cache.toAbsolutePath();
        this.packages = packages;
    }

    /** ${XDG_CACHE_HOME:-$HOME/.cache}/xen-evtchn/debian. */
    public static Path defaultCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("xen-evtchn").resolve("debian");
    }

    /** Fetches and builds what the cache lacks; see the class comment. */
    public Guest prepare() throws IOException {
        DebianPackages.Package kernel = packages.dependency(KERNEL_METAPACKAGE, "linux-image-");
        Path dir = cache.resolve(kernel.key());
        Path pkg = dir.resolve(PACKAGE);
        Path vmlinux = dir.resolve(VMLINUX);
        Path initramfs = dir.resolve(INITRAMFS);
        if (!Files.isDirectory(pkg)) {
            packages.fetch(kernel, pkg);
        }
        String release = release(kernel, pkg);
        if (!Files.isRegularFile(vmlinux)) {
            Path bzImage = pkg.resolve("boot").resolve("vmlinuz-" + release);
            if (!Files.isRegularFile(bzImage)) {
                throw new IOException(kernel.key() + " has no boot/vmlinuz-" + release + " (in " + pkg + ")");
            }
            byte[] elf;
            try {
                elf = KernelImage.elf(Files.readAllBytes(bzImage));
            } catch (IllegalArgumentException e) {
                throw new IOException(bzImage + ": " + e.getMessage(), e);
            }
            write(vmlinux, elf);
        }
        Guest guest = new Guest(vmlinux, initramfs, release, pkg);
        if (!Files.isRegularFile(initramfs)) {
            write(initramfs, Initramfs.build(busybox(), modules(guest)));
        }
        return guest;
    }

    /**
     * The kernel modules the initramfs loads: xen-blkfront, as a .ko or a .ko.xz, none if the
     * kernel has it built in.
     *
     * @throws IOException if the package has neither, nor the frontend built in, or only a form busybox cannot load
     */
    static List<Initramfs.Entry> modules(Guest guest) throws IOException {
        Path ko = guest.modules().resolve(BLKFRONT);
        for (String suffix : List.of("", ".xz")) {
            Path file = Path.of(ko + suffix);
            if (Files.isRegularFile(file)) {
                return List.of(new Initramfs.Entry(Initramfs.MODULES + file.getFileName(), Files.readAllBytes(file)));
            }
        }
        Path config = guest.packageDir().resolve("boot").resolve("config-" + guest.release());
        if (Files.isRegularFile(config) && Files.readAllLines(config).contains(BLKFRONT_CONFIG + "=y")) {
            return List.of();
        }
        if (Files.exists(Path.of(ko + ".zst"))) {
            throw new IOException(ko + ".zst: a zstd-compressed module, which the initramfs's busybox cannot unpack"
                    + " (it takes .ko and .ko.xz)");
        }
        throw new IOException("no " + ko + "(.xz), and " + config + " does not say " + BLKFRONT_CONFIG + "=y");
    }

    /** The static busybox binary from busybox-static (bin/busybox in bookworm, usr/bin/busybox after). */
    private byte[] busybox() throws IOException {
        DebianPackages.Package bb = packages.candidate(BUSYBOX);
        Path pkg = cache.resolve(bb.key()).resolve(PACKAGE);
        if (!Files.isDirectory(pkg)) {
            packages.fetch(bb, pkg);
        }
        for (String at : List.of("bin/busybox", "usr/bin/busybox")) {
            Path p = pkg.resolve(at);
            if (Files.isRegularFile(p)) {
                return Files.readAllBytes(p);
            }
        }
        throw new IOException(bb.key() + " has neither bin/busybox nor usr/bin/busybox (in " + pkg + ")");
    }

    /** The one directory under (usr/)lib/modules; the package name says which it should be. */
    private static String release(DebianPackages.Package kernel, Path pkg) throws IOException {
        String expected = kernel.name().substring("linux-image-".length());
        for (String modules : List.of("lib/modules", "usr/lib/modules")) {
            Path dir = pkg.resolve(modules);
            if (Files.isDirectory(dir)) {
                try (Stream<Path> releases = Files.list(dir)) {
                    List<String> all = releases.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                            .toList();
                    if (all.size() == 1) {
                        return all.getFirst();
                    }
                    if (all.contains(expected)) {
                        return expected;
                    }
                    throw new IOException(kernel.key() + ": cannot tell the release from " + dir + ": " + all);
                }
            }
        }
        throw new IOException(kernel.key() + " has no lib/modules/" + expected + " (in " + pkg + ")");
    }

    /** Writes beside {@code target}, then renames: readers see the whole file or none. */
    private static void write(Path target, byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + "-", ".tmp");
        try {
            Files.write(tmp, bytes);
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) { // temp files are 0600
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * {@code java -cp ... linux.guest.StockLinux [--cache DIR] [--offline]}: prepares the guest
     * and prints "vmlinux PATH", "initramfs PATH" and "release RELEASE", exit status 0; or one
     * line of error on stderr, exit status 1.
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path cache = defaultCache();
        boolean offline = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--cache") && i + 1 < args.length) {
                cache = Path.of(args[++i]);
            } else if (args[i].equals("--offline")) {
                offline = true;
            } else {
                err.println("usage: linux.guest.StockLinux [--cache DIR] [--offline] (default cache " + defaultCache()
                        + ")");
                return 1;
            }
        }
        try {
            Guest g = new StockLinux(cache, offline ? DebianPackages.offline() : DebianPackages.online()).prepare();
            out.println("vmlinux " + g.vmlinux());
            out.println("initramfs " + g.initramfs());
            out.println("release " + g.release());
            return 0;
        } catch (IOException | UncheckedIOException | DebianPackages.FetchException | IllegalArgumentException e) {
            err.println("linux.guest: " + String.valueOf(e.getMessage()).replace('\n', ' '));
            return 1;
        }
    }
}
