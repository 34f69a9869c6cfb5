package linux.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A writer of the "newc" cpio format, the one the Linux kernel unpacks as an initramfs. Each
 * entry is a header of "070701" and thirteen 8-digit hex fields (ino, mode, uid, gid, nlink,
 * mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize with its NUL, check),
 * the NUL-terminated name padded to a multiple of 4 (counted from the header's start), then the
 * data padded likewise; the archive ends with an entry named TRAILER!!!.
 *
 * <p>The kernel creates entries in archive order without making parent directories, so a
 * directory must come before what it holds. Owners are root, times 0: the same input gives the
 * same bytes.
 */
public final class Cpio {
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFLNK = 0120000;
    static final int S_IFCHR = 0020000;
    static final String TRAILER = "TRAILER!!!";
    /** The kernel's initramfs unpacker refuses longer names (PATH_MAX with the NUL). */
    static final int MAX_NAME = 4095;
    private static final int HEADER = 110;

    private final OutputStream out;
    private int ino;
    private boolean finished;

    /** Writes entries to {@code out}; {@link #finish()} adds the trailer and leaves it open. */
    public Cpio(OutputStream out) {
        this.out = out;
    }

    /** A directory; {@code permissions} are the low 12 mode bits (e.g. 0755, 01777). */
    public void directory(String path, int permissions) throws IOException {
        entry(path, S_IFDIR | check(permissions, path), 2, new byte[0], 0, 0);
    }

    /** A regular file holding {@code data}. */
    public void file(String path, int permissions, byte[] data) throws IOException {
        entry(path, S_IFREG | check(permissions, path), 1, data, 0, 0);
    }

    /** A symbolic link to {@code target}, which is stored as the entry's data without a NUL. */
    public void symlink(String path, String target) throws IOException {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length == 0 || t.length > MAX_NAME || target.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("symlink " + path + ": bad target '" + target + "'");
        }
        entry(path, S_IFLNK | 0777, 1, t, 0, 0);
    }

    /** A character device node with Linux device number {@code major}:{@code minor}. */
    public void charDevice(String path, int permissions, int major, int minor) throws IOException {
        // Linux's dev_t: 12-bit major, 20-bit minor.
        if (major < 0 || major >= 1 << 12 || minor < 0 || minor >= 1 << 20) {
            throw new IllegalArgumentException("device " + path + ": " + major + ":" + minor
                    + " is not a Linux device number (major below 4096, minor below 2^20)");
        }
        entry(path, S_IFCHR | check(permissions, path), 1, new byte[0], major, minor);
    }

    /** Writes the trailer; nothing may be added afterwards. The stream is not closed. */
    public void finish() throws IOException {
        requireOpen();
        header(0, 0, 1, 0, 0, 0, TRAILER);
        finished = true;
    }

    private void entry(String path, int mode, int nlink, byte[] data, int rdevMajor, int rdevMinor)
            throws IOException {
        requireOpen();
        checkPath(path);
        if (ino == Integer.MAX_VALUE) {
            throw new IllegalStateException("too many cpio entries");
        }
        header(++ino, mode, nlink, data.length, rdevMajor, rdevMinor, path);
        out.write(data);
        pad(data.length);
    }

    private void header(int inode, int mode, int nlink, int size, int rdevMajor, int rdevMinor, String name)
            throws IOException {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(HEADER).append("070701");
        for (int field : new int[] {inode, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, n.length + 1, 0}) {
            h.append(String.format("%08x", field));
        }
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.write(n);
        out.write(0);
        pad(HEADER + n.length + 1);
    }

    private void pad(int written) throws IOException {
        out.write(new byte[-written & 3]);
    }

    private void requireOpen() {
        if (finished) {
            throw new IllegalStateException("the cpio archive is finished: nothing can follow its trailer");
        }
    }

    private static int check(int permissions, String path) {
        if ((permissions & ~07777) != 0) {
            throw new IllegalArgumentException(path + ": permissions 0" + Integer.toOctalString(permissions)
                    + " have bits beyond 07777");
        }
        return permissions;
    }

    /** Names are relative ("bin/sh"), as cpio stores them: no empty, "." or ".." component. */
    private static void checkPath(String path) {
        byte[] n = path.getBytes(StandardCharsets.UTF_8);
        if (n.length == 0 || n.length > MAX_NAME || path.indexOf('\0') >= 0 || path.startsWith("/")
                || path.endsWith("/") || path.equals(TRAILER)) {
            throw new IllegalArgumentException("bad cpio entry name '" + path + "'");
        }
        for (String part : path.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("bad cpio entry name '" + path + "': component '" + part + "'");
            }
        }
    }
}
