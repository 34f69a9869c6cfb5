package xen.evtchn.api.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.evtchn.api.bus.DiskSpec;

/** {@link DomainConfiguration#disks()}: every shape Config Admin gives, and each refusal naming the PID. */
class DomainConfigurationDisksTest {
    private static final String PID = "xen.domain.kernel";

    private static List<DiskSpec> disks(Object value) {
        Map<String, Object> p = new HashMap<>();
        p.put("domid", 1);
        p.put("disk", value);
        return new DomainConfiguration(PID, p).disks();
    }

    private static String refusal(Object value) {
        return assertThrows(IllegalArgumentException.class, () -> disks(value)).getMessage();
    }

    @Test
    void noDisksUnlessTheyAreGiven() {
        assertEquals(List.of(), new DomainConfiguration(PID, Map.of("domid", 1)).disks());
        assertEquals(List.of(), disks(""));
        assertEquals(List.of(), disks(" "));
        assertEquals(List.of(), disks(new String[0]));
        assertEquals(List.of(), disks(List.of()));
    }

    @Test
    void aStringAnArrayOrACollection(@TempDir Path dir) throws IOException {
        Path a = Files.write(dir.resolve("a.img"), new byte[4096]);
        Path b = Files.write(dir.resolve("b.img"), new byte[1024]);
        assertEquals(List.of(new DiskSpec(a, "xvda", false)), disks(a.toString()));
        List<DiskSpec> two = List.of(new DiskSpec(a, "xvda", false), new DiskSpec(b, "xvdb", true));
        assertEquals(two, disks(new String[] {a.toString(), b + ",ro"}));
        assertEquals(two, disks(List.of(a.toString(), b + ",ro")));
        assertEquals(List.of(new DiskSpec(a, "xvdc", false), new DiskSpec(b, "xvda", true)),
                disks(List.of(a + ",vdev=xvdc", b + ",ro")));
    }

    @Test
    void badDisksAreRefusedNamingTheConfiguration(@TempDir Path dir) throws IOException {
        Path a = Files.write(dir.resolve("a.img"), new byte[4096]);
        Path missing = dir.resolve("missing.img");
        assertEquals("configuration xen.domain.kernel: disk xvdb (" + missing + "): no such file",
                refusal(new String[] {a.toString(), missing.toString()}), "every image is checked");
        assertEquals("configuration xen.domain.kernel: disk xvda (" + dir + "): not a regular file", refusal(dir.toString()));
        assertEquals("configuration xen.domain.kernel: disk \"" + a + ",rx\": unknown option \"rx\""
                + " (FILE[,ro|rw][,vdev=xvdX]; a file name cannot contain a comma)", refusal(a + ",rx"));
        assertEquals("configuration xen.domain.kernel: disk \"" + a + ",vdev=xvda\": vdev xvda is named twice",
                refusal(List.of(a + ",vdev=xvda", a + ",vdev=xvda")));
        assertEquals("configuration xen.domain.kernel: disk must be a string or a list of strings"
                + " (FILE[,ro|rw][,vdev=xvdX]): got a Integer", refusal(7));
        assertEquals("configuration xen.domain.kernel: disk must list strings (FILE[,ro|rw][,vdev=xvdX]): got a Integer",
                refusal(List.of(a.toString(), 7)));
        assertEquals("configuration xen.domain.kernel: disk must list strings (FILE[,ro|rw][,vdev=xvdX]): got null",
                refusal(Arrays.asList(a.toString(), null)));
        assertEquals("configuration xen.domain.kernel: a disk is null, not FILE[,ro|rw][,vdev=xvdX]",
                refusal(new String[] {null}));
    }
}
