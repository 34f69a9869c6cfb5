package xen.bus.save;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.SaveStreamException;

/** The bus's record: written and read back, every cut refused, every flipped byte refused or read as a valid record. */
class BusRecordTest {
    private static final BusRecord RECORD = new BusRecord(List.of(new BusRecord.Entry("vbd", 51728, false),
            new BusRecord.Entry("console", 1, true), new BusRecord.Entry("vbd", 51712, true)));

    private static String refusal(byte[] bytes) {
        return assertThrows(SaveStreamException.class, () -> BusRecord.read(bytes)).getMessage();
    }

    @Test
    void readsBackWhatItWrote() {
        byte[] bytes = RECORD.write();
        assertEquals(List.of(new BusRecord.Entry("console", 1, true), new BusRecord.Entry("vbd", 51712, true),
                new BusRecord.Entry("vbd", 51728, false)), BusRecord.read(bytes).devices(), "ascending by type, then id");
        assertArrayEquals(bytes, BusRecord.read(bytes).write());
    }

    @Test
    void everyCutIsRefusedAndEveryFlippedByteRefusedOrReadAsAValidRecord() {
        byte[] bytes = RECORD.write();
        for (int n = 0; n < bytes.length; n++) {
            String message = refusal(Arrays.copyOf(bytes, n));
            assertTrue(message.startsWith("save stream, xen.bus part, byte "), message);
        }
        for (int at = 0; at < bytes.length; at++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] b = bytes.clone();
                b[at] ^= (byte) (1 << bit);
                try {
                    BusRecord read = BusRecord.read(b);
                    assertArrayEquals(b, read.write(), "what it reads is what it would write");
                } catch (SaveStreamException e) {
                    assertTrue(e.getMessage().startsWith("save stream, xen.bus part, byte "), e.getMessage());
                }
            }
        }
    }

    @Test
    void theMessagesNameTheByteAndTheField() {
        assertEquals("save stream, xen.bus part, byte 0: format 2, not 1", refusal(new byte[] {2, 0}));
        assertEquals("save stream, xen.bus part, byte 1: device count is 4097, more than 4096", refusal(new byte[] {1, (byte) 0x81, 0x20}));
        assertEquals("save stream, xen.bus part, byte 2: device type is not lower-case letters, digits, - or _",
                refusal(new byte[] {1, 1, 3, 'V', 'b', 'd', 0, 0}));
        assertEquals("save stream, xen.bus part, byte 7: device flags 0x2 have reserved bits set",
                refusal(new byte[] {1, 1, 3, 'v', 'b', 'd', 1, 2}));
        assertEquals("save stream, xen.bus part, byte 8: vbd 1 comes after vbd 1: devices must be ascending, each once",
                refusal(new byte[] {1, 2, 3, 'v', 'b', 'd', 1, 0, 3, 'v', 'b', 'd', 1, 0}));
        assertEquals("save stream, xen.bus part, byte 4: device id is 2147483648, more than 2147483647",
                refusal(new byte[] {1, 1, 1, 'v', (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 8, 0}));
        assertEquals("save stream, xen.bus part, byte 2: 1 bytes after the record's end", refusal(new byte[] {1, 0, 0}));
    }
}
