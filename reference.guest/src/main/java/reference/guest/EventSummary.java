package reference.guest;

import java.util.List;
import java.util.Locale;

/**
 * The live event summary of a running guest, one line at a time:
 * {@code dom1  t=3s  vcpu0 ticks=300 timer=300 ipi-in=30 ipi-out=30 upcalls=331  vcpu1 ...}.
 * Per vCPU: ticks the guest handled, timer events the host delivered, IPI messages received and
 * sent, upcalls taken.
 */
final class EventSummary {
    private EventSummary() {
    }

    /**
     * The line for domain {@code domid} at {@code time} (e.g. "t=3s") from the guest's counters
     * and the host's timer counts, by vCPU.
     */
    static String line(int domid, String time, List<VcpuStats> guest, long[] hostTimer) {
        if (hostTimer.length != guest.size()) {
            throw new IllegalArgumentException(guest.size() + " vCPUs' stats but " + hostTimer.length + " timer counts");
        }
        StringBuilder b = new StringBuilder(32 + 72 * guest.size());
        b.append("dom").append(domid).append("  ").append(time);
        for (int v = 0; v < guest.size(); v++) {
            VcpuStats s = guest.get(v);
            b.append("  vcpu").append(s.vcpu())
                    .append(" ticks=").append(s.ticks())
                    .append(" timer=").append(hostTimer[v])
                    .append(" ipi-in=").append(s.ipisReceived())
                    .append(" ipi-out=").append(s.ipisSent())
                    .append(" upcalls=").append(s.upcalls());
        }
        return b.toString();
    }

    /** "t=3s" for a whole second, the form of the once-a-second lines. */
    static String seconds(long seconds) {
        return "t=" + seconds + "s";
    }

    /** "end t=5.02s": the form of the last line, when the guest has stopped. */
    static String end(long nanos) {
        return String.format(Locale.ROOT, "end t=%.2fs", nanos / 1e9);
    }
}
