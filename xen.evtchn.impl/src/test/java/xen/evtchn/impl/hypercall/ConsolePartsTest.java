package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import xen.evtchn.impl.console.ConsoleSink;
import xen.evtchn.impl.console.MemoryConsoleSink;
import xen.evtchn.impl.console.PrefixedLineSink;
import xen.evtchn.impl.console.TokenBucket;

/** The console's parts on their own: the token bucket, the bounded memory sink, the prefixed line sink. */
class ConsolePartsTest {
    private final long[] now = {1_000_000_000L};

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void write(ConsoleSink sink, String s) {
        byte[] b = ascii("##" + s);
        sink.write(b, 2, b.length - 2);
    }

    @Test
    void aBucketStartsFullAndGrantsNoMoreThanItHolds() {
        TokenBucket b = new TokenBucket(1000, 100, () -> now[0]);
        assertEquals(100, b.take(150));
        assertEquals(0, b.take(1));
        assertEquals(0, b.take(0));
    }

    @Test
    void aBucketRefillsAtItsRateUpToItsBurst() {
        TokenBucket b = new TokenBucket(1000, 100, () -> now[0]);
        b.take(100);
        now[0] += 50_000_000L;
        assertEquals(50, b.take(1000), "50 ms at 1000 B/s");
        now[0] += 10_000_000_000L;
        assertEquals(100, b.take(1000), "never more than the burst");
    }

    @Test
    void fractionsOfATokenAreNotLost() {
        TokenBucket b = new TokenBucket(500, 100, () -> now[0]);
        b.take(100);
        now[0] += 1_000_000L; // 0.5 token
        assertEquals(0, b.take(10));
        now[0] += 1_000_000L; // 1.0
        assertEquals(1, b.take(10));
        now[0] += 1_000_000L; // 0.5
        assertEquals(0, b.take(10));
        now[0] += 1_000_000L; // 1.0 again
        assertEquals(1, b.take(10), "the half token of the third step was kept");
    }

    @Test
    void aBucketRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, 10));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(10, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenBucket(TokenBucket.MAX + 1, 10));
    }

    @Test
    void theMemorySinkKeepsTheLatestBytesUpToItsCapacity() {
        MemoryConsoleSink s = new MemoryConsoleSink(8);
        write(s, "abcdef");
        assertEquals("abcdef", s.text());
        write(s, "ghij");
        assertEquals("cdefghij", s.text());
        assertEquals(10, s.received());
        write(s, "0123456789ABCDEF");
        assertEquals("89ABCDEF", s.text(), "a write longer than the capacity keeps its end");
        assertEquals(26, s.received());
    }

    @Test
    void thePrefixedSinkPrefixesEveryLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrefixedLineSink s = new PrefixedLineSink(out, "[dom1] ");
        write(s, "hello\nwor");
        write(s, "ld\n");
        write(s, "\n");
        assertEquals("[dom1] hello\n[dom1] world\n[dom1] \n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void thePrefixedSinkDropsControlBytesAsXenDoes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrefixedLineSink s = new PrefixedLineSink(out, "[dom2] ");
        write(s, "\u001b[31mred\r\n\ttab\u0007\u00ff\n");
        assertEquals("[dom2] [31mred\n[dom2] \ttab\n", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aLineOfOnlyControlBytesPrintsNothing() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrefixedLineSink s = new PrefixedLineSink(out, "[dom3] ");
        write(s, "\u0001\u0002\u0003");
        assertArrayEquals(new byte[0], out.toByteArray());
    }
}
