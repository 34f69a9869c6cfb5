package xen.evtchn.impl.port;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import xen.evtchn.impl.port.PortEntry;
import xen.evtchn.impl.port.PortTable;

/** The port table against the obvious model: a sorted set of free ports, lowest first. */
class PortTableTest {
    @ParameterizedTest
    @ValueSource(ints = {64, 1024, 4096})
    void randomAllocateAndFreeAlwaysGiveTheLowestFreePort(int limit) {
        PortTable table = new PortTable(limit);
        TreeSet<Integer> free = new TreeSet<>();
        for (int p = 1; p < limit; p++) {
            free.add(p);
        }
        Random random = new Random(limit);
        for (int step = 0; step < 200_000; step++) {
            boolean allocate = free.size() == limit - 1 || (!free.isEmpty() && random.nextInt(100) < 55);
            if (allocate) {
                int port = table.lowestFree(null);
                assertEquals(free.first(), port, "step " + step);
                table.allocate(port, PortEntry.ipi(0));
                free.remove(port);
            } else {
                int port = pickBound(random, limit, free);
                table.free(port);
                free.add(port);
            }
            if (free.isEmpty()) {
                assertEquals(-1, table.lowestFree(null), "full at step " + step);
            }
        }
    }

    private static int pickBound(Random random, int limit, TreeSet<Integer> free) {
        for (;;) {
            int p = 1 + random.nextInt(limit - 1);
            if (!free.contains(p)) {
                return p;
            }
        }
    }

    @Test
    void busyPortsAreSkippedAndFoundAgainOnceReleased() {
        PortTable table = new PortTable(128);
        for (int p = 1; p < 5; p++) {
            table.allocate(table.lowestFree(null), PortEntry.ipi(0));
        }
        table.free(2);
        int port = table.lowestFree(p -> p == 2);
        assertEquals(5, port, "port 2 is held back as busy");
        table.allocate(port, PortEntry.ipi(0));
        assertEquals(2, table.lowestFree(null), "once no longer busy, port 2 is the lowest free again");
    }

    @Test
    void validityGrowsByGroupAndNeverShrinks() {
        PortTable table = new PortTable(4096);
        assertEquals(64, table.validPorts(), "the first group is valid from the start");
        for (int p = 1; p <= 64; p++) {
            table.allocate(table.lowestFree(null), PortEntry.ipi(0));
        }
        assertEquals(128, table.validPorts());
        assertTrue(table.isValid(127));
        assertFalse(table.isValid(128));
        table.free(64);
        assertEquals(128, table.validPorts(), "freeing never invalidates (XSA-338)");
        assertFalse(table.isValid(-1), "a huge u32 is not valid");
    }
}
