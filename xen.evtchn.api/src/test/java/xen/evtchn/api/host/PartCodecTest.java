package xen.evtchn.api.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@link PartWriter} and {@link PartReader}: what one writes the other reads, and nothing else. */
class PartCodecTest {
    private static String refusal(byte[] bytes, Consumer<PartReader> read) {
        return assertThrows(SaveStreamException.class, () -> read.accept(new PartReader(bytes, "test"))).getMessage();
    }

    @Test
    void whatIsWrittenIsReadBack() {
        byte[] bytes = new PartWriter().u8(7).varint(0).varint(127).varint(128).varint(-1L).blob(new byte[] {1, 2, 3})
                .ascii("vbd").toArray();
        PartReader r = new PartReader(bytes, "test");
        assertEquals(7, r.u8("a"));
        assertEquals(0, r.varint("b", 10));
        assertEquals(127, r.varint("c", 127));
        assertEquals(128, r.varint32("d", 128));
        assertEquals(-1L, r.varint("e", -1L), "the full unsigned 64 bits");
        assertArrayEquals(new byte[] {1, 2, 3}, r.blob("f", 3));
        assertEquals("vbd", r.ascii("g", 32));
        assertTrue(r.atEnd());
        r.end();
    }

    @Test
    void everyCutIsRefusedNamingTheByteAndTheField() {
        byte[] bytes = new PartWriter().u8(1).varint(300).blob(new byte[] {9, 9}).toArray();
        for (int n = 0; n < bytes.length; n++) {
            byte[] cut = Arrays.copyOf(bytes, n);
            String message = refusal(cut, r -> {
                r.u8("format");
                r.varint("count", 1000);
                r.blob("data", 10);
            });
            Matcher m = Pattern.compile("save stream, test part, byte (\\d+): truncated in [\\w' ]+")
                    .matcher(message);
            assertTrue(m.matches(), message);
            assertTrue(Integer.parseInt(m.group(1)) <= n, "the byte is where the missing field's bytes start: " + message);
        }
    }

    @Test
    void boundsAndLeftoversAreRefused() {
        assertEquals("save stream, test part, byte 0: count is 300, more than 299",
                refusal(new PartWriter().varint(300).toArray(), r -> r.varint("count", 299)));
        assertEquals("save stream, test part, byte 0: data's length is 11, more than 10",
                refusal(new PartWriter().blob(new byte[11]).toArray(), r -> r.blob("data", 10)));
        byte[] eleven = new byte[11];
        Arrays.fill(eleven, 0, 10, (byte) 0xFF);
        eleven[10] = 1;
        assertEquals("save stream, test part, byte 0: count: more than 64 bits", refusal(eleven, r -> r.varint("count", -1L)));
        assertEquals("save stream, test part, byte 1: 2 bytes after the record's end",
                refusal(new byte[] {1, 2, 3}, r -> {
                    r.u8("format");
                    r.end();
                }));
    }
}
