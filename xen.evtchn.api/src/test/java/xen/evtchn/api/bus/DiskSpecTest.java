package xen.evtchn.api.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DiskSpec}: the operator's syntax, the vdevs and their numbers, and the image's check. */
class DiskSpecTest {
    @Test
    void aFileAloneIsAWritableXvda() {
        assertEquals(new DiskSpec(Path.of("/images/root.img"), "xvda", false), DiskSpec.parse("/images/root.img"));
        assertEquals(new DiskSpec(Path.of("rel/disk.img"), "xvda", false), DiskSpec.parse("rel/disk.img"));
    }

    @Test
    void optionsInAnyOrderWithSpaces() {
        assertEquals(new DiskSpec(Path.of("/d.img"), "xvdc", true), DiskSpec.parse("/d.img,ro,vdev=xvdc"));
        assertEquals(new DiskSpec(Path.of("/d.img"), "xvdc", true), DiskSpec.parse("/d.img, vdev=xvdc , ro"));
        assertEquals(new DiskSpec(Path.of("/d.img"), "xvda", false), DiskSpec.parse("/d.img,rw"));
        assertEquals(new DiskSpec(Path.of("/d.img"), "xvda", false), DiskSpec.parse(" /d.img ,rw"),
                "the file name is stripped as the options are");
    }

    @Test
    void unnamedDisksTakeTheFirstFreeVdevsInOrder() {
        List<DiskSpec> disks = DiskSpec.parseAll(List.of("/a", "/b,vdev=xvda", "/c,ro", "/d,vdev=xvdc", "/e"));
        assertEquals(List.of("xvdb", "xvda", "xvdd", "xvdc", "xvde"), disks.stream().map(DiskSpec::vdev).toList());
        assertEquals(List.of(false, false, true, false, false), disks.stream().map(DiskSpec::readOnly).toList());
        assertEquals(List.of(), DiskSpec.parseAll(List.of()));
    }

    @Test
    void beyondXvdzComeTwoLetters() {
        List<String> specs = new ArrayList<>(Collections.nCopies(28, "/x"));
        List<DiskSpec> disks = DiskSpec.parseAll(specs);
        assertEquals("xvdz", disks.get(25).vdev());
        assertEquals("xvdaa", disks.get(26).vdev());
        assertEquals("xvdab", disks.get(27).vdev());
        List<DiskSpec> all = DiskSpec.parseAll(Collections.nCopies(DiskSpec.MAX_DISKS, "/x"));
        assertEquals("xvdzz", all.getLast().vdev());
        assertEquals(DiskSpec.MAX_DISKS, all.stream().map(DiskSpec::vdev).distinct().count());
        assertRefused("703 disks, more than the 702 vdevs xvda..xvdzz", Collections.nCopies(DiskSpec.MAX_DISKS + 1, "/x"));
    }

    @Test
    void devidsAreLinuxsVirtualDeviceNumbers() {
        // docs/misc/vbd-interface.txt: 202 << 8 | disk << 4 for xvda..xvdp, then 1 << 28 | disk << 8.
        assertEquals(51712, new DiskSpec(Path.of("/x"), "xvda", false).devid());
        assertEquals(51728, new DiskSpec(Path.of("/x"), "xvdb", false).devid());
        assertEquals(202 << 8 | 15 << 4, new DiskSpec(Path.of("/x"), "xvdp", false).devid());
        assertEquals(1 << 28 | 16 << 8, new DiskSpec(Path.of("/x"), "xvdq", false).devid());
        assertEquals(268439552, new DiskSpec(Path.of("/x"), "xvdq", false).devid());
        assertEquals(1 << 28 | 26 << 8, new DiskSpec(Path.of("/x"), "xvdaa", false).devid());
        assertEquals(1 << 28 | 701 << 8, new DiskSpec(Path.of("/x"), "xvdzz", false).devid());
    }

    @Test
    void badSpecificationsAreNamed() {
        assertRefused("disk \"\": no image file (FILE[,ro|rw][,vdev=xvdX])", List.of(""));
        assertRefused("disk \",ro\": no image file (FILE[,ro|rw][,vdev=xvdX])", List.of(",ro"));
        assertRefused("disk \"/d,ro,rw\": give ro or rw once", List.of("/d,ro,rw"));
        assertRefused("disk \"/d,ro,ro\": give ro or rw once", List.of("/d,ro,ro"));
        assertRefused("disk \"/d,vdev=xvda,vdev=xvdb\": give vdev once", List.of("/d,vdev=xvda,vdev=xvdb"));
        assertRefused("disk \"/d,readonly\": unknown option \"readonly\" (FILE[,ro|rw][,vdev=xvdX]; a file name cannot contain a comma)",
                List.of("/d,readonly"));
        assertRefused("disk \"/d,\": unknown option \"\" (FILE[,ro|rw][,vdev=xvdX]; a file name cannot contain a comma)",
                List.of("/d,"));
        assertRefused("disk \"/d\0x\": not a file name (Nul character not allowed)", List.of("/d\0x"));
        assertRefused("a disk is null, not FILE[,ro|rw][,vdev=xvdX]", Arrays.asList("/d", null));
    }

    @Test
    void badVdevsAreNamed() {
        for (String vdev : List.of("", "sda", "xvd", "xvdA", "xvdaaa", "xvd1", "hda")) {
            assertRefused("disk \"/d,vdev=" + vdev + "\": vdev must be xvd followed by one or two letters (xvda, xvdb, ... xvdzz): got \""
                    + vdev + "\"", List.of("/d,vdev=" + vdev));
        }
        assertThrows(IllegalArgumentException.class, () -> new DiskSpec(Path.of("/x"), "sda", false));
        assertThrows(IllegalArgumentException.class, () -> new DiskSpec(Path.of("/x"), null, false));
        assertEquals("a disk needs an image file",
                assertThrows(IllegalArgumentException.class, () -> new DiskSpec(null, "xvda", false)).getMessage());
    }

    @Test
    void aVdevNamedTwiceIsRefused() {
        assertRefused("disk \"/b,vdev=xvdb\": vdev xvdb is named twice", List.of("/a,vdev=xvdb", "/b,vdev=xvdb"));
    }

    private static void assertRefused(String message, List<String> specs) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> DiskSpec.parseAll(specs)).getMessage());
    }

    @Test
    void theCheckGivesWholeSectors(@TempDir Path dir) throws IOException {
        Path image = Files.write(dir.resolve("disk.img"), new byte[3 * DiskSpec.SECTOR_SIZE + 100]);
        assertEquals(3, DiskSpec.parse(image.toString()).check(), "a partial last sector is not served");
        Files.write(image, new byte[DiskSpec.SECTOR_SIZE]);
        assertEquals(1, DiskSpec.parse(image + ",ro").check());
        Path link = Files.createSymbolicLink(dir.resolve("link.img"), image);
        assertEquals(1, DiskSpec.parse(link.toString()).check(), "a symbolic link to an image is that image");
    }

    @Test
    void theCheckNamesWhatIsWrong(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.img");
        assertCheck("disk xvda (" + missing + "): no such file", missing + "");
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.img"), missing);
        assertCheck("disk xvda (" + dangling + "): no such file", dangling + "");
        assertCheck("disk xvdb (" + dir + "): not a regular file", dir + ",vdev=xvdb");
        Path small = Files.write(dir.resolve("small.img"), new byte[DiskSpec.SECTOR_SIZE - 1]);
        assertCheck("disk xvda (" + small + "): 511 bytes, less than one 512-byte sector", small + ",ro");
        Path empty = Files.write(dir.resolve("empty.img"), new byte[0]);
        assertCheck("disk xvda (" + empty + "): 0 bytes, less than one 512-byte sector", empty + "");
    }

    /**
     * Permissions: only when not root, whom file permissions do not stop (the check asks the OS,
     * Files.isReadable/isWritable, so as root both pass; the missing file and the directory above
     * are what a root run can test).
     */
    @Test
    void unreadableOrReadOnlyFilesAreNamedWhenPermissionsCount(@TempDir Path dir) throws IOException {
        Path image = Files.write(dir.resolve("locked.img"), new byte[DiskSpec.SECTOR_SIZE]);
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("r--r--r--"));
        if (Files.isWritable(image)) {
            assertEquals(1, DiskSpec.parse(image.toString()).check(), "as root, a file without w bits is writable");
            return;
        }
        assertCheck("disk xvda (" + image + "): not writable (give ,ro for a read-only disk)", image + "");
        assertEquals(1, DiskSpec.parse(image + ",ro").check(), "read-only needs no write permission");
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("-w-------"));
        assertCheck("disk xvda (" + image + "): not readable", image + "");
        assertFalse(Files.isReadable(image));
    }

    private static void assertCheck(String message, String spec) {
        DiskSpec disk = DiskSpec.parse(spec);
        assertEquals(message, assertThrows(IllegalArgumentException.class, disk::check).getMessage());
    }

    @Test
    void theNodesAreLibxlsForARawImage() {
        DeviceNodes rw = new DiskSpec(Path.of("/images/a.img"), "xvdb", false).nodes(3);
        assertEquals(3, rw.domid());
        assertEquals("vbd", rw.type());
        assertEquals(51728, rw.devid());
        assertEquals(Map.of("params", "/images/a.img", "mode", "w", "dev", "xvdb", "type", "file", "device-type", "disk",
                "removable", "0", "bootable", "1"), rw.backend());
        assertEquals(Map.of("virtual-device", "51728", "device-type", "disk"), rw.frontend());

        DeviceNodes ro = DiskSpec.parse("rel.img,ro,vdev=xvdq").nodes(7);
        assertEquals("r", ro.backend().get("mode"));
        assertEquals(Path.of("rel.img").toAbsolutePath().toString(), ro.backend().get("params"), "params is absolute");
        assertEquals(Integer.toString(1 << 28 | 16 << 8), ro.frontend().get("virtual-device"));
        assertTrue(ro.devid() > 0);
    }
}
