package xen.block.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configuration xen.block: defaults, typed and string values, and the messages for bad ones. */
class BlockSettingsTest {
    @Test
    void defaultsAndValues() {
        assertEquals(new BlockSettings(4, true, true), BlockSettings.read(Map.of()));
        assertEquals(new BlockSettings(0, false, true), BlockSettings.read(Map.of("max.ring.page.order", 0, "feature.flush.cache", false)));
        assertEquals(new BlockSettings(2, true, false), BlockSettings.read(Map.of("max.ring.page.order", " 2 ", "feature.barrier", "false")));
    }

    @Test
    void badValuesAreRefusedNamingThePidAndTheProperty() {
        assertEquals("configuration xen.block: max.ring.page.order must be 0..4: got 5",
                assertThrows(IllegalArgumentException.class, () -> BlockSettings.read(Map.of("max.ring.page.order", 5))).getMessage());
        assertEquals("configuration xen.block: max.ring.page.order must be 0..4: got -1",
                assertThrows(IllegalArgumentException.class, () -> BlockSettings.read(Map.of("max.ring.page.order", "-1"))).getMessage());
        assertEquals("configuration xen.block: max.ring.page.order must be a whole number: got \"big\"",
                assertThrows(IllegalArgumentException.class, () -> BlockSettings.read(Map.of("max.ring.page.order", "big"))).getMessage());
        assertEquals("configuration xen.block: feature.barrier must be true or false: got \"yes\"",
                assertThrows(IllegalArgumentException.class, () -> BlockSettings.read(Map.of("feature.barrier", "yes"))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BlockBackend(Map.of("feature.flush.cache", 1), line -> { }));
    }
}
