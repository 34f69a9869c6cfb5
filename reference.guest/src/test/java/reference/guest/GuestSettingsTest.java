package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GuestSettingsTest {
    private static GuestSettings from(Map<String, String> properties) {
        return GuestSettings.from(properties::get);
    }

    @Test
    void bootsOnlyWhenAskedForTheReferenceGuest() {
        assertFalse(from(Map.of()).boot());
        assertFalse(from(Map.of("xen.guest", "linux")).boot(), "another booter's guest");
        assertTrue(from(Map.of("xen.guest", "reference")).boot());
        assertTrue(from(Map.of("xen.guest", " reference ")).boot());
        assertFalse(from(Map.of("xen.guest.hz", "fast")).boot(), "settings are read only for a guest to boot");
    }

    @Test
    void defaultsAreTwoVcpusAtHundredHzForFiveSecondsWithIpisEveryTenTicks() {
        GuestConfig c = from(Map.of("xen.guest", "reference")).config();
        assertEquals(new GuestConfig(2, 100, Duration.ofSeconds(5), true, 10), c);
    }

    @Test
    void readsEverySetting() {
        GuestConfig c = from(Map.of("xen.guest", "reference", "xen.guest.vcpus", "4", "xen.guest.hz", "1000",
                "xen.guest.seconds", "7", "xen.guest.ipis", "false")).config();
        assertEquals(new GuestConfig(4, 1000, Duration.ofSeconds(7), false, 10), c);
    }

    @Test
    void badValuesNameTheProperty() {
        assertMessage("xen.guest.hz must be a whole number: got \"fast\"", Map.of("xen.guest.hz", "fast"));
        assertMessage("xen.guest.ipis must be true or false: got \"yes\"", Map.of("xen.guest.ipis", "yes"));
        assertMessage("xen.guest.seconds must be at least 1: got 0", Map.of("xen.guest.seconds", "0"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> from(Map.of("xen.guest", "reference", "xen.guest.vcpus", "65")));
        assertTrue(e.getMessage().contains("xen.guest.vcpus") && e.getMessage().contains("vcpus must be 1..64"),
                e.getMessage());
    }

    private static void assertMessage(String expected, Map<String, String> properties) {
        Map<String, String> all = new HashMap<>(properties);
        all.put("xen.guest", "reference");
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> from(all)).getMessage());
    }
}
