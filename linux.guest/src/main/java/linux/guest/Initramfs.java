package linux.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * The busybox initramfs a stock kernel boots to a shell with: a static busybox, the symlinks for
 * the applets /init runs, /dev/console (the kernel opens it for init before /init runs, so it must
 * be in the archive), the mount points, and /init, which mounts proc, sysfs and devtmpfs, installs
 * every applet, prints {@link #READY} and runs a shell with the console as its controlling
 * terminal. Extra files (kernel modules) can be added under any path.
 */
public final class Initramfs {
    /** The line /init prints once the system is up: what a test waits for on the console. */
    public static final String READY = "linux.guest: initramfs ready";
    /** The applets /init calls before --install has made the rest (and "sh" for the shebang's users). */
    static final List<String> APPLETS = List.of("sh", "mount", "setsid", "cttyhack", "poweroff");
    static final List<String> DIRECTORIES = List.of("bin", "dev", "etc", "proc", "root", "sbin", "sys", "tmp", "usr",
            "usr/bin", "usr/sbin");

    /** A file to add: its path in the archive ("lib/modules/..."; a leading / is dropped) and bytes. */
    public record Entry(String path, byte[] data) {
    }

    private Initramfs() {
    }

    /**
     * /init. cttyhack reopens the real console (hvc0 under Xen, from
     * /sys/class/tty/console/active) because /dev/console cannot be a controlling terminal, so
     * job control and ^C work; setsid makes the shell a session leader that can take it. When
     * the shell exits the guest powers off rather than panic on init's death.
     */
    public static String init() {
        return """
                #!/bin/busybox sh
                /bin/busybox mount -t proc proc /proc
                /bin/busybox mount -t sysfs sysfs /sys
                /bin/busybox mount -t devtmpfs devtmpfs /dev
                /bin/busybox --install -s
                echo "%s"
                setsid cttyhack sh
                echo "linux.guest: the shell exited, powering off"
                poweroff -f
                """.formatted(READY);
    }

    /** The archive: busybox (the static binary's bytes), the base system, then {@code extra}. */
    public static byte[] build(byte[] busybox, List<Entry> extra) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(busybox.length + 4096);
        try {
            Cpio cpio = new Cpio(bytes);
            Set<String> dirs = new HashSet<>(DIRECTORIES);
            for (String d : DIRECTORIES) {
                cpio.directory(d, d.equals("tmp") ? 01777 : d.equals("root") ? 0700 : 0755);
            }
            Set<String> others = new HashSet<>(List.of("dev/console", "bin/busybox", "init"));
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file("bin/busybox", 0755, busybox);
            for (String applet : APPLETS) {
                cpio.symlink("bin/" + applet, "/bin/busybox");
                others.add("bin/" + applet);
            }
            cpio.file("init", 0755, init().getBytes(StandardCharsets.UTF_8));
            addExtra(cpio, dirs, others, extra);
            cpio.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not throw
        }
        return bytes.toByteArray();
    }

    /** The extra files in path order, each preceded by whichever of its parent directories are new. */
    private static void addExtra(Cpio cpio, Set<String> dirs, Set<String> others, List<Entry> extra)
            throws IOException {
        TreeMap<String, byte[]> files = new TreeMap<>();
        for (Entry e : extra) {
            String path = e.path().startsWith("/") ? e.path().substring(1) : e.path();
            if (dirs.contains(path) || others.contains(path) || files.put(path, e.data()) != null) {
                throw new IllegalArgumentException("initramfs: " + e.path() + " is already in the archive");
            }
        }
        others.addAll(files.keySet());
        for (var f : files.entrySet()) {
            String path = f.getKey();
            for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
                String parent = path.substring(0, slash);
                if (others.contains(parent)) {
                    throw new IllegalArgumentException("initramfs: " + path + " would be inside the non-directory "
                            + parent);
                }
                if (dirs.add(parent)) {
                    cpio.directory(parent, 0755);
                }
            }
            cpio.file(path, 0644, f.getValue()); // Cpio refuses empty, "." and ".." components
        }
    }
}
