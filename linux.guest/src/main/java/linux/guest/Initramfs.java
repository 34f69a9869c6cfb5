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
 * terminal, or the disk test ({@link #diskTest()}, /bin/disktest) that the kernel's command line
 * asks for. Extra files can be added under any path; kernel modules under {@value #MODULES} are
 * loaded by /init.
 */
public final class Initramfs {
    /** The line /init prints once the system is up: what a test waits for on the console. */
    public static final String READY = "linux.guest: initramfs ready";
    /** The kernel command line parameter that runs {@link #diskTest()} instead of a shell: disktest=MODE. */
    public static final String DISK_TEST_PARAMETER = "disktest";
    /** How each line of {@link #diskTest()} starts. */
    public static final String DISK_TEST = "linux.guest: disk-test: ";
    /** Where extra kernel modules go: /init loads every one at boot. */
    public static final String MODULES = "lib/modules/";
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
     * /init. It loads the kernel modules under /lib/modules (xen-blkfront: StockLinux puts it
     * there; a .ko.xz is unpacked first, with busybox's unxz), prints {@link #READY}, then either
     * runs the disk test that the kernel command line asks for ({@value #DISK_TEST_PARAMETER}=MODE,
     * see {@link #diskTest()}) and powers off, or runs a shell. cttyhack reopens the real console
     * (hvc0 under Xen, from /sys/class/tty/console/active) because /dev/console cannot be a
     * controlling terminal, so job control and ^C work; setsid makes the shell a session leader
     * that can take it. When the shell exits the guest powers off rather than panic on init's death.
     */
    public static String init() {
        return """
                #!/bin/busybox sh
                /bin/busybox mount -t proc proc /proc
                /bin/busybox mount -t sysfs sysfs /sys
                /bin/busybox mount -t devtmpfs devtmpfs /dev
                /bin/busybox --install -s
                for m in /lib/modules/*.ko.xz; do [ -f "$m" ] && unxz "$m"; done
                for m in /lib/modules/*.ko; do [ -f "$m" ] && insmod "$m"; done
                echo "%s"
                for arg in $(cat /proc/cmdline); do
                    case "$arg" in
                        %s=*)
                            disktest "${arg#*=}"
                            poweroff -f
                            ;;
                    esac
                done
                setsid cttyhack sh
                echo "linux.guest: the shell exited, powering off"
                poweroff -f
                """.formatted(READY, DISK_TEST_PARAMETER);
    }

    /**
     * /bin/disktest MODE [DEVICE]: what the disk test does inside the guest, on DEVICE (default
     * /dev/xvda), waiting up to 30 s for it to appear. Every line it prints starts with
     * {@link #DISK_TEST}; the first gives the device's size in sectors and its read-only flag
     * ("/dev/xvda 131072 sectors ro=0"), the last is either a result or "FAILED: why" (status 1).
     * <ul>
     * <li>{@code write}: makes an ext2 file system (busybox's mke2fs; Debian's kernel mounts ext2 with
     * its ext4 driver), writes 4 MiB from /dev/urandom and 100 small files, unmounts it (which
     * writes everything back) and prints "wrote SHA256" of their contents
     * <li>{@code read}: mounts it read-only and prints "read SHA256" of the same contents
     * <li>{@code readonly}: prints "first-mib SHA256" of the device's first MiB, read raw; then a
     * raw write to the device must fail (blkfront marks the disk read-only when the backend's
     * {@code info} node has VDISK_READONLY): prints "write refused (dd's message)", or FAILED if
     * the write went through
     * <li>{@code stream}: fills a 32 MiB file in RAM from /dev/urandom, prints "streaming BYTES", writes
     * it raw to the start of the device with fsync, and prints "streamed SHA256" of it (the host
     * swaps the backend meanwhile and compares the image's bytes)
     * </ul>
     */
    public static String diskTest() {
        return """
                #!/bin/busybox sh
                # linux.guest's disk test: disktest write|read|readonly|stream [DEVICE]
                mode=$1
                dev=${2:-/dev/xvda}
                name=${dev##*/}
                say() { echo "%1$s$*"; }
                fail() { say "FAILED: $*"; exit 1; }
                i=0
                while [ ! -b "$dev" ]; do
                    [ $i -ge 300 ] && fail "no $dev after 30 s"
                    usleep 100000
                    i=$((i + 1))
                done
                sectors=$(cat /sys/block/$name/size) || fail "no /sys/block/$name/size"
                ro=$(cat /sys/block/$name/ro)
                say "$dev $sectors sectors ro=$ro"
                mkdir -p /mnt
                case "$mode" in
                    write)
                        mke2fs -F "$dev" > /tmp/mke2fs.log 2>&1 || { cat /tmp/mke2fs.log; fail "mke2fs $dev"; }
                        mount -t ext2 "$dev" /mnt || fail "mount $dev"
                        dd if=/dev/urandom of=/mnt/random bs=64k count=64 2> /dev/null || fail "writing /mnt/random"
                        mkdir /mnt/small || fail "mkdir /mnt/small"
                        n=0
                        while [ $n -lt 100 ]; do
                            echo "file $n of the disk test" > /mnt/small/$n || fail "writing /mnt/small/$n"
                            n=$((n + 1))
                        done
                        sum=$(cat /mnt/random /mnt/small/* | sha256sum)
                        sync
                        umount /mnt || fail "umount /mnt"
                        say "wrote ${sum%%%% *}"
                        ;;
                    read)
                        mount -t ext2 -o ro "$dev" /mnt || fail "mount $dev"
                        [ -f /mnt/random ] || fail "no /mnt/random"
                        [ -f /mnt/small/99 ] || fail "no /mnt/small/99"
                        sum=$(cat /mnt/random /mnt/small/* | sha256sum)
                        umount /mnt || fail "umount /mnt"
                        say "read ${sum%%%% *}"
                        ;;
                    readonly)
                        sum=$(dd if="$dev" bs=64k count=16 2> /dev/null | sha256sum)
                        say "first-mib ${sum%%%% *}"
                        if dd if=/dev/zero of="$dev" bs=4096 count=1 conv=fsync 2> /tmp/dd.log; then
                            fail "a write to $dev went through"
                        fi
                        say "write refused ($(head -n 1 /tmp/dd.log))"
                        ;;
                    stream)
                        dd if=/dev/urandom of=/tmp/stream bs=64k count=512 2> /dev/null || fail "making /tmp/stream"
                        sum=$(sha256sum < /tmp/stream)
                        say "streaming $(wc -c < /tmp/stream)"
                        dd if=/tmp/stream of="$dev" bs=64k conv=fsync 2> /tmp/dd.log || { cat /tmp/dd.log; fail "writing $dev"; }
                        say "streamed ${sum%%%% *}"
                        ;;
                    *)
                        fail "unknown mode '$mode' (write, read, readonly or stream)"
                        ;;
                esac
                """.formatted(DISK_TEST);
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
            Set<String> others = new HashSet<>(List.of("dev/console", "bin/busybox", "init", "bin/disktest"));
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file("bin/busybox", 0755, busybox);
            for (String applet : APPLETS) {
                cpio.symlink("bin/" + applet, "/bin/busybox");
                others.add("bin/" + applet);
            }
            cpio.file("bin/disktest", 0755, diskTest().getBytes(StandardCharsets.UTF_8));
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
