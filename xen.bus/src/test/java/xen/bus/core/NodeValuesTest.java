package xen.bus.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.XenBusException;

/** The frontend's values, parsed strictly and shown safely. */
class NodeValuesTest {
    @Test
    void aStateIsOneOfXenbusStatesWrittenInDigitsOnly() {
        assertEquals(XenbusState.INITIALISING, NodeValues.state("1"));
        assertEquals(XenbusState.RECONFIGURED, NodeValues.state("8"));
        assertEquals(XenbusState.CONNECTED, NodeValues.state("04"));
        for (String bad : new String[] {null, "", "9", "42", "-1", " 4", "4 ", "4\0", "+4", "004", "x"}) {
            assertEquals(NodeValues.NO_STATE, NodeValues.state(bad), "\"" + bad + "\"");
        }
    }

    @Test
    void aNumberIsDecimalWithinItsRangeOrRefusedNamingTheNode() throws XenBusException {
        assertEquals(4294967295L, NodeValues.number("p", "4294967295", 0, 0xFFFF_FFFFL));
        assertEquals(-3, NodeValues.number("p", "-3", -5, 5));
        assertEquals("p is missing", assertThrows(XenBusException.class, () -> NodeValues.number("p", null, 0, 1)).getMessage());
        assertEquals("p = 4294967296 is out of range 0..4294967295",
                assertThrows(XenBusException.class, () -> NodeValues.number("p", "4294967296", 0, 0xFFFF_FFFFL)).getMessage());
        for (String bad : new String[] {"", "-", "0x10", " 1", "1 ", "99999999999999999999", "1e3", "٣"}) {
            assertThrows(XenBusException.class, () -> NodeValues.number("p", bad, Long.MIN_VALUE, Long.MAX_VALUE), bad);
        }
        assertEquals("p is not a number: \"a?b" + "c".repeat(29) + "...\"",
                assertThrows(XenBusException.class, () -> NodeValues.number("p", "a\u0007b" + "c".repeat(40), 0, 1)).getMessage());
    }
}
