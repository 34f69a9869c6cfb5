package linux.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link Initramfs}: what the kernel and /init need is in the archive, in an order the kernel can unpack. */
class InitramfsTest {
    static final byte[] BUSYBOX = "not really busybox".getBytes(StandardCharsets.US_ASCII);

    @Test
    void theBaseSystemIsThere() {
        Map<String, CpioTest.Entry> e = CpioTest.read(Initramfs.build(BUSYBOX, List.of()));
        CpioTest.Entry init = e.get("init");
        assertEquals(0100755, init.mode(), "/init: an executable file");
        String script = init.text();
        assertTrue(script.startsWith("#!/bin/busybox sh\n"), script);
        for (String line : List.of("mount -t proc proc /proc", "mount -t sysfs sysfs /sys",
                "mount -t devtmpfs devtmpfs /dev", "/bin/busybox --install -s", "echo \"" + Initramfs.READY + "\"",
                "setsid cttyhack sh")) {
            assertTrue(script.contains(line + "\n"), () -> "/init lacks '" + line + "':\n" + script);
        }
        // The shell starts after --install, which makes setsid and cttyhack available anyway.
        assertTrue(script.indexOf("--install") < script.indexOf("cttyhack"));
        // Modules load before READY, so that a disk has its frontend when a test or a person looks.
        for (String line : List.of("for m in /lib/modules/*.ko.xz; do [ -f \"$m\" ] && unxz \"$m\"; done",
                "for m in /lib/modules/*.ko; do [ -f \"$m\" ] && insmod \"$m\"; done")) {
            assertTrue(script.contains(line + "\n"), () -> "/init lacks '" + line + "':\n" + script);
            assertTrue(script.indexOf(line) > script.indexOf("--install") && script.indexOf(line) < script.indexOf(Initramfs.READY));
        }
        // disktest=MODE on the command line runs the disk test instead of the shell, then powers off.
        int test = script.indexOf("disktest=*)");
        assertTrue(test > script.indexOf(Initramfs.READY) && test < script.indexOf("cttyhack"), script);
        assertTrue(script.substring(test).matches("(?s)disktest=\\*\\)\\n\\s+disktest \"\\$\\{arg#\\*=}\"\\n\\s+poweroff -f\\n.*"),
                script.substring(test));

        CpioTest.Entry disktest = e.get("bin/disktest");
        assertEquals(0100755, disktest.mode());
        assertEquals(Initramfs.diskTest(), disktest.text());

        CpioTest.Entry console = e.get("dev/console");
        assertEquals(020600, console.mode());
        assertEquals(5, console.rdevMajor());
        assertEquals(1, console.rdevMinor());

        assertEquals(0100755, e.get("bin/busybox").mode());
        assertArrayEquals(BUSYBOX, e.get("bin/busybox").data());
        for (String applet : List.of("sh", "mount", "setsid", "cttyhack", "poweroff")) {
            CpioTest.Entry link = e.get("bin/" + applet);
            assertEquals(0120777, link.mode(), applet);
            assertEquals("/bin/busybox", link.text(), applet);
        }
        for (String dir : List.of("proc", "sys", "dev", "tmp", "bin", "sbin", "usr/bin", "usr/sbin")) {
            assertEquals(040000, e.get(dir).type(), dir);
        }
        assertEquals(041777, e.get("tmp").mode());
        assertParentsFirst(e);
    }

    @Test
    void theDiskTestHasAModeForEachStepAndSaysWhatItDid() {
        String script = Initramfs.diskTest();
        assertTrue(script.startsWith("#!/bin/busybox sh\n"), script);
        assertTrue(script.contains("say() { echo \"linux.guest: disk-test: $*\"; }\n"), script);
        for (String mode : List.of("write)", "read)", "readonly)", "*)")) {
            assertTrue(script.contains("\n    " + mode + "\n"), () -> mode + " in\n" + script);
        }
        for (String line : List.of("say \"$dev $sectors sectors ro=$ro\"", "mke2fs -F \"$dev\"", "mount -t ext2 \"$dev\" /mnt",
                "mount -t ext2 -o ro \"$dev\" /mnt", "say \"wrote ${sum%% *}\"", "say \"read ${sum%% *}\"",
                "say \"first-mib ${sum%% *}\"", "fail \"a write to $dev went through\"")) {
            assertTrue(script.contains(line), () -> line + " in\n" + script);
        }
        assertTrue(!script.contains("%s") && !script.contains("%1$"), "every format is filled in:\n" + script);
    }

    @Test
    void extraFilesComeWithTheirDirectories() {
        byte[] ko = {0x7f, 'E', 'L', 'F', 1};
        String path = "lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/block/xen-blkfront.ko";
        Map<String, CpioTest.Entry> e = CpioTest.read(Initramfs.build(BUSYBOX, List.of(
                new Initramfs.Entry("/" + path, ko),
                new Initramfs.Entry("lib/modules/6.1.0-57-cloud-amd64/modules.dep", new byte[0]),
                new Initramfs.Entry("etc/motd", "hello\n".getBytes(StandardCharsets.US_ASCII)))));
        assertArrayEquals(ko, e.get(path).data());
        assertEquals(0100644, e.get(path).mode());
        for (String dir : List.of("lib", "lib/modules", "lib/modules/6.1.0-57-cloud-amd64",
                "lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/block")) {
            assertEquals(040755, e.get(dir).mode(), dir);
        }
        assertEquals("hello\n", e.get("etc/motd").text());
        assertParentsFirst(e);
    }

    @Test
    void clashingOrBadExtraPathsAreRefused() {
        for (List<String> paths : List.of(List.of("init"), List.of("bin/sh"), List.of("dev"), List.of("a", "/a"),
                List.of("init/x"), List.of("a", "a/b"), List.of("a/../b"), List.of("a//b"), List.of(""))) {
            List<Initramfs.Entry> extra = new ArrayList<>();
            for (String p : paths) {
                extra.add(new Initramfs.Entry(p, new byte[1]));
            }
            assertThrows(IllegalArgumentException.class, () -> Initramfs.build(BUSYBOX, extra), paths::toString);
        }
    }

    /** Every entry's parent directory is an earlier entry: the kernel makes no directories itself. */
    static void assertParentsFirst(Map<String, CpioTest.Entry> entries) {
        List<String> seen = new ArrayList<>();
        for (String name : entries.keySet()) {
            int slash = name.lastIndexOf('/');
            if (slash > 0) {
                String parent = name.substring(0, slash);
                assertTrue(seen.contains(parent), () -> name + " comes before its directory " + parent);
                assertEquals(040000, entries.get(parent).type(), parent);
            }
            seen.add(name);
        }
    }
}
