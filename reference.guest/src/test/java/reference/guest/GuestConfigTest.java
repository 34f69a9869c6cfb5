package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class GuestConfigTest {
    private static final Duration SECOND = Duration.ofSeconds(1);

    @Test
    void aValidConfiguration() {
        GuestConfig c = new GuestConfig(2, 100, SECOND, true, 10);
        assertEquals(GuestConfig.DEFAULT_CALLBACK_VECTOR, c.callbackVector());
        assertEquals(10_000_000L, c.periodNanos());
        assertEquals(100, c.expectedTicks());
        assertEquals(GuestMemoryMap.ramBytes(2), c.ramBytes());
        assertEquals(6 * 4096, c.ramBytes());
        GuestConfig quiet = GuestConfig.ticking(1, 250, SECOND);
        assertFalse(quiet.ipis());
        assertEquals(250, quiet.expectedTicks());
        GuestConfig loud = quiet.withIpis(3);
        assertTrue(loud.ipis());
        assertEquals(3, loud.ipiEveryTicks());
        assertEquals(new GuestConfig(GuestMemoryMap.MAX_VCPUS, GuestConfig.MAX_HZ, GuestConfig.MAX_RUN_FOR, false, 1, 0x10),
                new GuestConfig(64, 10_000, Duration.ofDays(365), false, 1, 0x10));
    }

    @Test
    void refusesBadValuesNamingThem() {
        refused("vcpus must be 1..64", () -> new GuestConfig(0, 100, SECOND, false, 1));
        refused("vcpus must be 1..64", () -> new GuestConfig(65, 100, SECOND, false, 1));
        refused("hz must be 1..10000: got 0", () -> new GuestConfig(1, 0, SECOND, false, 1));
        refused("hz must be 1..10000: got 10001", () -> new GuestConfig(1, 10_001, SECOND, false, 1));
        refused("runFor must be positive", () -> new GuestConfig(1, 100, Duration.ZERO, false, 1));
        refused("runFor must be positive", () -> new GuestConfig(1, 100, Duration.ofMillis(-1), false, 1));
        refused("at most", () -> new GuestConfig(1, 100, Duration.ofDays(366), false, 1));
        refused("shorter than one tick at 100 Hz", () -> new GuestConfig(1, 100, Duration.ofMillis(9), false, 1));
        refused("ipiEveryTicks must be at least 1: got 0", () -> new GuestConfig(1, 100, SECOND, true, 0));
        refused("callbackVector must be 0x10..0xff", () -> new GuestConfig(1, 100, SECOND, false, 1, 0x0f));
        refused("callbackVector must be 0x10..0xff", () -> new GuestConfig(1, 100, SECOND, false, 1, 0x100));
        assertThrows(NullPointerException.class, () -> new GuestConfig(1, 100, null, false, 1));
    }

    private static void refused(String message, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(message), () -> "message \"" + x.getMessage() + "\" lacks \"" + message + "\"");
    }
}
