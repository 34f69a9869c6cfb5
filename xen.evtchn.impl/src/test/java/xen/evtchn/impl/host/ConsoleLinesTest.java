package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import xen.evtchn.impl.console.ConsoleLines;

class ConsoleLinesTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void splitsAtNewlinesAndAtTheLengthLimit() {
        List<String> lines = new ArrayList<>();
        ConsoleLines out = new ConsoleLines(lines::add, 4);
        out.write(ascii("ab\ncdefgh"), 0, 9);
        assertEquals(List.of("ab", "cdef"), lines, "a full line is passed; its rest waits");
        out.write('\n');
        out.write(ascii("xx\n"), 0, 3);
        assertEquals(List.of("ab", "cdef", "gh", "xx"), lines);
    }

    @Test
    void aConsumerThatThrowsLosesOnlyThatLine() {
        List<String> lines = new ArrayList<>();
        ConsoleLines out = new ConsoleLines(line -> {
            if (line.equals("bad")) {
                throw new IllegalStateException("host bug");
            }
            lines.add(line);
        }, 80);
        out.write(ascii("one\nbad\ntwo\n"), 0, 12);
        assertEquals(List.of("one", "two"), lines);
        assertEquals(1, out.failedLines());
    }
}
