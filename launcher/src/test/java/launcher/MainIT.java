package launcher;

import static launcher.MainTest.launch;
import static launcher.MainTest.table;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import launcher.MainTest.Result;

/**
 * Runs the launcher in-process against target/bundles, which the build fills in phase package
 * (so this runs under Failsafe, in phase integration-test).
 */
class MainIT {
    /** Every bundle the build copies into target/bundles, and the system bundle. */
    private static final List<String> EXPECTED = List.of(
            "org.apache.felix.framework",
            "org.apache.felix.scr",
            "org.osgi.service.component",
            "org.apache.felix.configadmin",
            "org.osgi.util.promise",
            "org.osgi.util.function",
            "xen.evtchn.api",
            "xen.evtchn.impl",
            "kvm.provider");

    private static Path builtBundles() {
        String dir = System.getProperty(Main.BUNDLES_PROPERTY);
        assertTrue(dir != null, "Failsafe sets -D" + Main.BUNDLES_PROPERTY);
        return Paths.get(dir);
    }

    @Test
    void startsEveryBuiltBundle() {
        Path bundles = builtBundles();
        Result result = launch("--bundles", bundles.toString(), "--timeout", "20");

        Map<String, String> states = table(result.out());
        for (String bsn : EXPECTED) {
            assertEquals("ACTIVE", states.get(bsn), bsn + " in\n" + result.out() + result.err());
        }
        assertEquals(EXPECTED.size(), states.size(), "one row per bundle:\n" + result.out());
        assertEquals(0, result.status(), result.err());
        assertTrue(result.out().contains("All " + (EXPECTED.size() - 1) + " bundles are ACTIVE."), result.out());
    }
}
