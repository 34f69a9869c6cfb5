package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class EventSummaryTest {
    @Test
    void oneLineWithEveryVcpu() {
        List<VcpuStats> stats = List.of(new VcpuStats(0, 300, 30, 29, 28, 331, 1, 0),
                new VcpuStats(1, 299, 29, 30, 30, 330, 0, 0));
        assertEquals("dom1  t=3s  vcpu0 ticks=300 timer=301 ipi-in=29 ipi-out=30 upcalls=331"
                + "  vcpu1 ticks=299 timer=299 ipi-in=30 ipi-out=29 upcalls=330",
                EventSummary.line(1, EventSummary.seconds(3), stats, new long[] {301, 299}));
    }

    @Test
    void theLastLineSaysWhenTheGuestEnded() {
        assertEquals("dom2  end t=5.03s  vcpu0 ticks=1 timer=1 ipi-in=0 ipi-out=0 upcalls=1",
                EventSummary.line(2, EventSummary.end(5_034_000_000L), List.of(new VcpuStats(0, 1, 0, 0, 0, 1, 0, 0)),
                        new long[] {1}));
    }

    @Test
    void refusesCountsOfAnotherSize() {
        assertThrows(IllegalArgumentException.class,
                () -> EventSummary.line(1, "t=1s", List.of(new VcpuStats(0, 1, 0, 0, 0, 1, 0, 0)), new long[2]));
    }
}
