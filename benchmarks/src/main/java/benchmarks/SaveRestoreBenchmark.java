package benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ParkedTimers;
import xen.evtchn.impl.time.TimerState;

/**
 * Save and restore of {@link FullDomain} (4096 ports in use, 8 vCPUs). {@code save}: the domain's
 * state taken and written as a stream, after re-arming its timers (a save stops them; the 9 arms
 * are part of the figure). {@code restore}: the stream read and checked, and the domain made on a
 * fresh host (made before each call, outside the figure). The hosts' timers never fire
 * ({@link ParkedTimers}): the figure is save/restore's, not a timer thread's. Goal: each under 1 ms.
 * {@link SaveStreamSize} prints the stream's size.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SaveRestoreBenchmark {
    private XenHost host;
    private Domain platform;
    private List<TimerState> timers;
    private byte[] stream;
    private XenHost fresh;
    private final BenchVcpus vcpus = new BenchVcpus(FullDomain.VCPUS, FullDomain.RAM);

    @Setup(Level.Trial)
    public void setUp() throws EvtchnException {
        host = new XenHost(ParkedTimers.INSTANCE, (d, r) -> { });
        platform = FullDomain.build(host, new BenchVcpus(FullDomain.VCPUS, FullDomain.RAM));
        timers = new ArrayList<>();
        for (int v = 0; v < FullDomain.VCPUS; v++) {
            timers.add(platform.time().timers().state(v));
        }
        stream = save();
    }

    @Setup(Level.Invocation)
    public void freshHost() {
        fresh = new XenHost(ParkedTimers.INSTANCE, (d, r) -> { });
    }

    @Benchmark
    public byte[] save() {
        for (int v = 0; v < FullDomain.VCPUS; v++) {
            platform.time().timers().restore(v, timers.get(v));
        }
        return SaveStream.write(host.save(FullDomain.DOMID));
    }

    @Benchmark
    public Domain restore() {
        return fresh.restoreDomain(FullDomain.DOMID, SaveStream.read(stream), vcpus, DomainConsole.inMemory());
    }
}
