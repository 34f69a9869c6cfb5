package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link GuestSettings} from a configuration of xen.domain.reference, as strings or typed values. */
class GuestSettingsTest {
    @Test
    void defaultsAreTwoVcpusAtHundredHzForFiveSecondsWithIpisEveryTenTicks() {
        GuestSettings s = GuestSettings.from(Map.of("domid", 1));
        assertEquals(1, s.domid());
        assertEquals(new GuestConfig(2, 100, Duration.ofSeconds(5), true, 10), s.config());
        assertNull(s.xenVersion(), "the host's default");
    }

    @Test
    void readsEverySettingTypedOrAsStrings() {
        GuestSettings typed = GuestSettings.from(Map.of("domid", 3, "vcpus", 4, "hz", 1000L, "seconds", 7,
                "ipis", false, "xen.version", "4.19"));
        GuestSettings strings = GuestSettings.from(Map.of("domid", "3", "vcpus", " 4", "hz", "1000", "seconds", "7",
                "ipis", "false", "xen.version", "4.19"));
        for (GuestSettings s : new GuestSettings[] {typed, strings}) {
            assertEquals(3, s.domid());
            assertEquals(new GuestConfig(4, 1000, Duration.ofSeconds(7), false, 10), s.config());
            assertEquals("4.19", s.xenVersion());
        }
    }

    @Test
    void fifoPortsChooseTheFifoAbi() {
        GuestSettings s = GuestSettings.from(Map.of("domid", 1, "vcpus", 2, "fifo.ports", "5000"));
        assertEquals(new GuestConfig(2, 100, Duration.ofSeconds(5), true, 10).withFifo(5000), s.config());
        assertEquals(0, GuestSettings.from(Map.of("domid", 1)).config().fifoPorts(), "2-level by default");
    }

    @Test
    void consoleLinesTurnTheConsoleRingOn() {
        GuestSettings s = GuestSettings.from(Map.of("domid", 1, "console.lines", "300"));
        assertEquals(new GuestConfig(2, 100, Duration.ofSeconds(5), true, 10).withConsole(300), s.config());
        assertEquals(1, s.config().consoleLinesPerTick(), "300 lines over 500 ticks");
        assertEquals(3, GuestSettings.from(Map.of("domid", 1, "console.lines", "1001")).config().consoleLinesPerTick());
        assertFalse(GuestSettings.from(Map.of("domid", 1)).config().console(), "console_io only by default");
        assertMessage("console.lines must be 0..100000000: got -1", Map.of("console.lines", -1));
    }

    @Test
    void badValuesNameTheConfigurationAndProperty() {
        assertMessage("fifo.ports must be 0..130943: got 200000", Map.of("fifo.ports", 200000));
        assertMessage("fifoPorts must be 0 (2-level), or 1024 (8 batches a vCPU) to 130943: got 100",
                Map.of("fifo.ports", 100));
        assertMessage("domid is required (1..32751)", Map.of("hz", 100));
        assertMessage("domid must be 1..32751: got 32752", Map.of("domid", 32752));
        assertMessage("domid must be 1..32751: got 0", Map.of("domid", "0"));
        assertMessage("hz must be a whole number: got \"fast\"", Map.of("hz", "fast"));
        assertMessage("hz must be a whole number: got \"1.5\"", Map.of("hz", 1.5));
        assertMessage("hz must be 1..10000: got 10001", Map.of("hz", 10001));
        assertMessage("ipis must be true or false: got \"yes\"", Map.of("ipis", "yes"));
        assertMessage("seconds must be 1..86400: got 0", Map.of("seconds", "0"));
        assertMessage("vcpus must be 1..64: got 65", Map.of("vcpus", "65"));
    }

    private static void assertMessage(String expected, Map<String, Object> properties) {
        Map<String, Object> all = new HashMap<>(properties);
        all.putIfAbsent("domid", 1);
        if (!properties.containsKey("domid") && expected.startsWith("domid is required")) {
            all.remove("domid");
        }
        String message = assertThrows(IllegalArgumentException.class, () -> GuestSettings.from(all)).getMessage();
        assertEquals("configuration xen.domain.reference: " + expected, message);
    }
}
