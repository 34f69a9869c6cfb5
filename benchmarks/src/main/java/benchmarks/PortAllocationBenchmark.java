package benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * bind_ipi + close on a 64-bit guest's table, empty and with 4095 of 4096 ports in use (port 0
 * reserved, ports 1..4094 bound, 4095 free); and on the FIFO ABI's 131,072 ports, empty and with
 * 131,071 in use (1..131,070 bound, 131,071 free). Lowest-free allocation is O(1) here, so both cost
 * about the same; {@link LinearScanTable} shows what Xen's and QEMU's linear scan costs on the
 * same fill, measured in the same run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class PortAllocationBenchmark {
    @Param({"empty", "full", "fifo-empty", "fifo-full"})
    public String table;

    private GuestEventChannels domain;
    private LinearScanTable linear;

    @Setup(Level.Trial)
    public void setUp() {
        domain = new Domains().create(1, GuestWidth.X86_64, new BenchVcpus(1, 1 << 20));
        int ports = 4096;
        if (table.startsWith("fifo")) {
            if (domain.initControl(0x20, 0, 0) != 0) {
                throw new IllegalStateException("init_control failed");
            }
            ports = EvtchnFifo.NR_CHANNELS;
        }
        linear = new LinearScanTable(ports);
        if (table.endsWith("full")) {
            for (int i = 1; i < ports - 1; i++) {
                if (domain.bindIpi(0) < 0 || linear.allocate() < 0) {
                    throw new IllegalStateException("could not fill the table");
                }
            }
        }
    }

    @Benchmark
    public int bindAndClose() {
        int port = domain.bindIpi(0);
        return domain.close(port) + port;
    }

    @Benchmark
    public int linearScanBindAndClose() {
        int port = linear.allocate();
        linear.free(port);
        return port;
    }

    /** The allocation strategy of Xen's get_free_port and QEMU's allocate_port: scan from port 1. */
    static final class LinearScanTable {
        private final long[] entries;

        LinearScanTable(int ports) {
            entries = new long[ports];
        }

        int allocate() {
            for (int p = 1; p < entries.length; p++) {
                if (entries[p] == 0) {
                    entries[p] = 1;
                    return p;
                }
            }
            return -1;
        }

        void free(int port) {
            entries[port] = 0;
        }
    }
}
