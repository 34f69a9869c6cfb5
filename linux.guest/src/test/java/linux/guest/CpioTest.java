package linux.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Cpio} read back by a reader written here and, where the machine has it, by cpio(1). */
class CpioTest {
    /** One newc entry as read back. */
    record Entry(String name, int ino, int mode, int nlink, int rdevMajor, int rdevMinor, byte[] data) {
        int type() {
            return mode & 0170000;
        }

        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /**
     * Reads a newc archive strictly: magic, hex fields, NUL-terminated names, 4-byte padding
     * (which must be zeros), the trailer last and nothing but zeros after it.
     */
    static Map<String, Entry> read(byte[] a) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        int at = 0;
        while (true) {
            assertTrue(a.length - at >= 110, "header at " + at + " runs past the end");
            assertEquals("070701", new String(a, at, 6, StandardCharsets.US_ASCII), "magic at " + at);
            int[] f = new int[13];
            for (int i = 0; i < 13; i++) {
                String hex = new String(a, at + 6 + 8 * i, 8, StandardCharsets.US_ASCII);
                assertTrue(hex.matches("[0-9a-f]{8}"), "field " + i + " at " + at + ": " + hex);
                f[i] = Integer.parseUnsignedInt(hex, 16);
            }
            int namesize = f[11];
            int size = f[6];
            assertEquals(0, f[12], "check field");
            int name = at + 110;
            assertEquals(0, a[name + namesize - 1], "name's NUL");
            String n = new String(a, name, namesize - 1, StandardCharsets.UTF_8);
            int data = pad(name + namesize, a);
            if (n.equals("TRAILER!!!")) {
                for (int i = data; i < a.length; i++) {
                    assertEquals(0, a[i], "after the trailer");
                }
                return entries;
            }
            Entry e = new Entry(n, f[0], f[1], f[4], f[9], f[10], Arrays.copyOfRange(a, data, data + size));
            assertEquals(null, entries.put(n, e), "duplicate " + n);
            at = pad(data + size, a);
        }
    }

    /** The next multiple of 4, after checking the padding up to it is zeros. */
    static int pad(int at, byte[] a) {
        int next = (at + 3) & ~3;
        for (int i = at; i < next && i < a.length; i++) {
            assertEquals(0, a[i], "padding at " + i);
        }
        return next;
    }

    static byte[] sample() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Cpio c = new Cpio(out);
        c.directory("bin", 0755);
        c.directory("tmp", 01777);
        c.file("bin/hello", 0755, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8));
        c.file("empty", 0644, new byte[0]);
        c.file("abc", 0600, new byte[] {1, 2, 3}); // 3 bytes: padded
        c.symlink("bin/sh", "/bin/busybox");
        c.charDevice("console", 0600, 5, 1);
        c.finish();
        return out.toByteArray();
    }

    @Test
    void entriesReadBack() throws IOException {
        byte[] a = sample();
        assertEquals(0, a.length % 4);
        Map<String, Entry> e = read(a);
        assertEquals(List.of("bin", "tmp", "bin/hello", "empty", "abc", "bin/sh", "console"), List.copyOf(e.keySet()));
        assertEquals(040755, e.get("bin").mode());
        assertEquals(041777, e.get("tmp").mode());
        assertEquals(0100755, e.get("bin/hello").mode());
        assertEquals("#!/bin/sh\necho hi\n", e.get("bin/hello").text());
        assertEquals(0, e.get("empty").data().length);
        assertArrayEquals(new byte[] {1, 2, 3}, e.get("abc").data());
        assertEquals(0120777, e.get("bin/sh").mode());
        assertEquals("/bin/busybox", e.get("bin/sh").text());
        Entry console = e.get("console");
        assertEquals(020600, console.mode());
        assertEquals(5, console.rdevMajor());
        assertEquals(1, console.rdevMinor());
        assertEquals(0, console.data().length);
        assertEquals(7, e.values().stream().mapToInt(Entry::ino).distinct().count(), "distinct inodes");
        assertEquals(2, e.get("bin").nlink());
        assertEquals(1, e.get("abc").nlink());
    }

    @Test
    void theFirstHeaderIsByTheBook() throws IOException {
        String head = new String(sample(), 0, 110 + 4, StandardCharsets.US_ASCII);
        // ino 1, mode 040755, uid, gid, nlink 2, mtime, size, devs, rdevs, namesize 4 ("bin" + NUL), check
        assertEquals("070701" + "00000001" + "000041ed" + "00000000" + "00000000" + "00000002" + "00000000"
                + "00000000" + "00000000" + "00000000" + "00000000" + "00000000" + "00000004" + "00000000"
                + "bin\0", head);
    }

    @Test
    void badEntriesAreRefused() throws IOException {
        Cpio c = new Cpio(new ByteArrayOutputStream());
        for (String bad : List.of("", "/abs", "a//b", "a/", "./a", "a/../b", "..", "nul\0", "TRAILER!!!")) {
            assertThrows(IllegalArgumentException.class, () -> c.file(bad, 0644, new byte[0]), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> c.file("x", 010000, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> c.charDevice("x", 0600, 4096, 0));
        assertThrows(IllegalArgumentException.class, () -> c.charDevice("x", 0600, 1, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> c.symlink("x", ""));
        assertThrows(IllegalArgumentException.class, () -> c.file("x".repeat(4096), 0644, new byte[0]));
        c.finish();
        assertThrows(IllegalStateException.class, () -> c.file("late", 0644, new byte[0]));
        assertThrows(IllegalStateException.class, c::finish);
    }

    /** GNU cpio lists what we wrote, with the right types, modes and link target. */
    @Test
    void cpioListsIt(@TempDir Path tmp) throws IOException, InterruptedException {
        Path cpio = DebianPackages.onPath("cpio");
        assumeTrue(cpio != null, "no cpio program on the PATH (Debian: apt-get install cpio)");
        Path archive = Files.write(tmp.resolve("a.cpio"), sample());
        List<String> names = lines(tmp, archive, cpio.toString(), "-it", "--quiet");
        assertEquals(List.of("bin", "tmp", "bin/hello", "empty", "abc", "bin/sh", "console"), names);
        List<String> long_ = lines(tmp, archive, cpio.toString(), "-itv", "--quiet");
        assertTrue(long_.get(0).startsWith("drwxr-xr-x"), long_.get(0));
        assertTrue(long_.get(1).startsWith("drwxrwxrwt"), long_.get(1));
        assertTrue(long_.get(2).startsWith("-rwxr-xr-x"), long_.get(2));
        assertTrue(long_.get(5).startsWith("lrwxrwxrwx") && long_.get(5).endsWith("bin/sh -> /bin/busybox"),
                long_.get(5));
        assertTrue(long_.get(6).startsWith("crw-------") && long_.get(6).matches(".*\\b5,\\s*1\\b.*"), long_.get(6));
    }

    /** The lines {@code command} prints with {@code archive} as its stdin (stderr goes to a file, ignored). */
    static List<String> lines(Path tmp, Path archive, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectInput(archive.toFile())
                .redirectError(tmp.resolve("stderr").toFile()).start();
        List<String> out = new ArrayList<>(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines().toList());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "cpio did not finish");
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed: " + read(tmp.resolve("stderr")));
        return out;
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
