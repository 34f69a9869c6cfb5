package benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * Host heap per port, measured: the used heap after full GCs, with many domains kept alive, empty
 * and with every port bound. Prints a table: the marginal cost of a bound port ((full - empty) /
 * bound ports) and the overall cost (full / ports, so the fixed per-domain part included). Everything a domain's
 * event channels hold on the heap is counted (port table, summaries, VIRQ table, locks, the domain
 * objects); guest memory is off-heap and not counted.
 */
public final class HeapPerPort {
    private static final int DOMAINS = 500;

    public static void main(String[] args) {
        System.out.printf("%-8s %6s %15s %15s %16s %15s%n", "guest", "ports", "B/domain empty",
                "B/domain full", "B/port marginal", "B/port overall");
        for (GuestWidth width : GuestWidth.values()) {
            row(width.toString(), width, false, DOMAINS);
        }
        // FIFO: 2^17 ports a domain, so fewer domains; its event array pages are guest memory, not counted.
        row("64 FIFO", GuestWidth.X86_64, true, DOMAINS / 20);
    }

    private static void row(String name, GuestWidth width, boolean fifo, int domains) {
        double empty = bytesPerDomain(width, fifo, false, domains);
        double full = bytesPerDomain(width, fifo, true, domains);
        int ports = fifo ? EvtchnFifo.NR_CHANNELS : width.twoLevelPorts();
        System.out.printf("%-8s %6d %15.0f %15.0f %16.3f %15.3f%n", name, ports, empty, full,
                (full - empty) / (ports - 1), full / ports);
    }

    private static double bytesPerDomain(GuestWidth width, boolean fifo, boolean fill, int count) {
        List<GuestEventChannels> keep = new ArrayList<>();
        Domains domains = new Domains();
        long before = usedAfterGc();
        for (int i = 1; i <= count; i++) {
            GuestEventChannels d = domains.create(i, width, new BenchVcpus(1, 4096));
            if (fifo && d.initControl(0, 0, 0) != 0) {
                throw new IllegalStateException("init_control failed");
            }
            if (fill) {
                while (d.bindIpi(0) > 0) {
                    // until -ENOSPC: every port but the reserved port 0 is bound
                }
            }
            keep.add(d);
        }
        long after = usedAfterGc();
        if (keep.size() != count) {
            throw new AssertionError();
        }
        // The BenchVcpus objects are the benchmark's, not the event channels': subtract theirs.
        long backends = backendBytes();
        return (after - before) / (double) count - backends;
    }

    private static long backendBytes() {
        List<BenchVcpus> keep = new ArrayList<>();
        long before = usedAfterGc();
        for (int i = 0; i < DOMAINS; i++) {
            keep.add(new BenchVcpus(1, 4096));
        }
        long after = usedAfterGc();
        return keep.isEmpty() ? 0 : (after - before) / DOMAINS;
    }

    private static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
