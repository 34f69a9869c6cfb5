package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.CONSOLE_IO;
import static xen.evtchn.impl.hypercall.PlatformFixture.EFAULT;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.RAM;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.console.MemoryConsoleSink;
import xen.evtchn.impl.console.TokenBucket;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * HYPERVISOR_console_io through the dispatcher: CONSOLEIO_write reaches the domain's sink and
 * returns 0 as Xen does, -EFAULT writes nothing, a flooding guest is held to the token bucket's
 * allowance with the rest counted as dropped and memory bounded; CONSOLEIO_read finds no input.
 */
class ConsoleIoHandlerTest {
    private static final int WRITE = 0;
    private static final int READ = 1;

    private final PlatformFixture fx = new PlatformFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    private static long put(Guest g, long at, String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, g.ram(), ValueLayout.JAVA_BYTE, at, b.length);
        return b.length;
    }

    private static MemoryConsoleSink sink(Guest g) {
        return (MemoryConsoleSink) g.p().console().sink();
    }

    @Test
    void writtenBytesArriveAtTheSinkAndTheCallReturnsZero() {
        Guest g = fx.guest(1);
        long n = put(g, ARG, "hello, console\n");
        assertEquals(0, g.call(CONSOLE_IO, WRITE, n, ARG), "Xen's CONSOLEIO_write returns 0");
        assertEquals("hello, console\n", sink(g).text());
        assertEquals(n, g.p().console().written());
        assertEquals(0, g.p().console().dropped());
    }

    @Test
    void aThirtyTwoBitCallerWritesTheSame() {
        Guest g = fx.guest(1);
        long n = put(g, ARG, "dom1 32-bit\n");
        assertEquals(0, g.call32(CONSOLE_IO, WRITE, n, ARG));
        assertEquals("dom1 32-bit\n", sink(g).text());
    }

    @Test
    void successiveWritesKeepTheirOrder() {
        Guest g = fx.guest(1);
        long a = put(g, ARG, "first ");
        assertEquals(0, g.call(CONSOLE_IO, WRITE, a, ARG));
        long b = put(g, ARG, "second\n");
        assertEquals(0, g.call(CONSOLE_IO, WRITE, b, ARG));
        assertEquals("first second\n", sink(g).text());
    }

    @Test
    void aCountPastTheMappedBufferIsEfaultAndWritesNothing() {
        Guest g = fx.guest(1);
        put(g, RAM - 4, "abcd");
        assertEquals(EFAULT, g.call(CONSOLE_IO, WRITE, 8, RAM - 4));
        assertEquals(EFAULT, g.call(CONSOLE_IO, WRITE, 1, RAM));
        assertEquals(EFAULT, g.call(CONSOLE_IO, WRITE, 16, -8L));
        assertEquals(0, sink(g).received());
        assertEquals(0, g.p().console().written() + g.p().console().dropped(), "nothing counted either");
    }

    @Test
    void aNegativeOrHugeCountIsEfault() {
        Guest g = fx.guest(1);
        assertEquals(EFAULT, g.call(CONSOLE_IO, WRITE, -1L, ARG), "count is an unsigned int: 4 GiB - 1");
        assertEquals(EFAULT, g.call(CONSOLE_IO, WRITE, 0x8000_0000L, ARG));
        assertEquals(EFAULT, g.call32(CONSOLE_IO, WRITE, -1L, ARG));
        assertEquals(0, sink(g).received());
        assertEquals(0, g.p().console().dropped(), "a refused write is not counted as dropped");
    }

    @Test
    void theCountIsAnUnsignedIntAsInXen() {
        Guest g = fx.guest(1);
        put(g, ARG, "12345678");
        assertEquals(0, g.call(CONSOLE_IO, WRITE, 1L << 32 | 5, ARG), "the upper half of rsi is ignored");
        assertEquals("12345", sink(g).text());
    }

    @Test
    void aZeroCountWritesNothingAndNeedsNoBuffer() {
        Guest g = fx.guest(1);
        assertEquals(0, g.call(CONSOLE_IO, WRITE, 0, RAM + 0x10000));
        assertEquals(0, sink(g).received());
    }

    @Test
    void readFindsNoInputAndTouchesNothing() {
        Guest g = fx.guest(1);
        g.fill(ARG, 16, 0x77);
        assertEquals(0, g.call(CONSOLE_IO, READ, 16, ARG));
        for (byte b : g.bytes(ARG, 16)) {
            assertEquals(0x77, b);
        }
    }

    @Test
    void otherCommandsAreEnosys() {
        Guest g = fx.guest(1);
        put(g, ARG, "x\n");
        for (long cmd : new long[] {2, 3, 0xFFFF_FFFFL, 0x8000_0000L}) {
            assertEquals(ENOSYS, g.call(CONSOLE_IO, cmd, 2, ARG), "cmd " + cmd);
        }
        assertEquals(0, sink(g).received());
    }

    @Test
    void theSinkGetsAtMostOneChunkAtATimeInOrder() {
        List<byte[]> chunks = new ArrayList<>();
        Guest g = fx.guest(1, new DomainConsole((b, off, len) -> {
            byte[] c = new byte[len];
            System.arraycopy(b, off, c, 0, len);
            chunks.add(c);
        }, new TokenBucket(1 << 20, 1 << 20)));
        int n = 5000;
        for (int i = 0; i < n; i++) {
            g.ram().set(ValueLayout.JAVA_BYTE, ARG + i, (byte) ('a' + i % 26));
        }
        assertEquals(0, g.call(CONSOLE_IO, WRITE, n, ARG));
        int total = 0;
        for (byte[] c : chunks) {
            assertTrue(c.length <= 1024, "chunk of " + c.length);
            for (byte b : c) {
                assertEquals('a' + total % 26, b, "byte " + total);
                total++;
            }
        }
        assertEquals(n, total);
    }

    @Test
    void aFloodIsHeldToTheBucketsAllowanceAndTheRestIsCountedAsDropped() {
        long rate = 64 * 1024;
        long burst = 32 * 1024;
        MemoryConsoleSink sink = new MemoryConsoleSink(16 * 1024);
        Guest g = fx.guest(1, new DomainConsole(sink, new TokenBucket(rate, burst)));
        int block = 64 * 1024;
        g.fill(ARG, block, 'x');
        long total = 10L << 20;
        long start = System.nanoTime();
        for (long sent = 0; sent < total; sent += block) {
            assertEquals(0, g.call(CONSOLE_IO, WRITE, block, ARG));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long allowance = burst + (long) Math.ceil(rate * seconds) + 1;
        DomainConsole console = g.p().console();
        assertTrue(console.written() <= allowance, "written " + console.written() + " > allowance " + allowance);
        assertTrue(console.written() >= burst, "the burst passes: " + console.written());
        assertEquals(total, console.written() + console.dropped(), "every byte is written or counted as dropped");
        assertEquals(console.written(), sink.received(), "the sink got exactly what was written");
        assertTrue(sink.bytes().length <= 16 * 1024, "the sink holds at most its capacity");
    }

    @Test
    void afterAFloodTheBucketRefillsAtItsRate() {
        long[] now = {0};
        MemoryConsoleSink sink = new MemoryConsoleSink();
        Guest g = fx.guest(1, new DomainConsole(sink, new TokenBucket(1000, 100, () -> now[0])));
        g.fill(ARG, 500, 'y');
        assertEquals(0, g.call(CONSOLE_IO, WRITE, 500, ARG));
        assertEquals(100, sink.received(), "the burst");
        assertEquals(400, g.p().console().dropped());
        now[0] += 50_000_000L; // 50 ms at 1000 B/s: 50 bytes
        assertEquals(0, g.call(CONSOLE_IO, WRITE, 500, ARG));
        assertEquals(150, sink.received());
        assertEquals(850, g.p().console().dropped());
    }

    @Test
    void consolesAreRateLimitedPerDomain() {
        long[] now = {0};
        Guest a = fx.guest(1, new DomainConsole(new MemoryConsoleSink(), new TokenBucket(1000, 100, () -> now[0])));
        Guest b = fx.guest(2, new DomainConsole(new MemoryConsoleSink(), new TokenBucket(1000, 100, () -> now[0])));
        a.fill(ARG, 500, 'a');
        b.fill(ARG, 50, 'b');
        assertEquals(0, a.call(CONSOLE_IO, WRITE, 500, ARG));
        assertEquals(0, b.call(CONSOLE_IO, WRITE, 50, ARG));
        assertEquals(50, sink(b).received(), "dom2 is not starved by dom1's flood");
        assertEquals(0, b.p().console().dropped());
    }
}
