package benchmarks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
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
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * EVTCHNOP_send on an unmasked IPI port, taking the whole set-pending path every time: the guest
 * side clears upcall_pending, pending_sel and the pending bit between sends, as Linux's upcall
 * handler does. Compare with the C reference of the same atomics, run beside it (send2l, see
 * docs/PERFORMANCE.md); the FIFO pair with benchmarks/src/main/c/fifo_send.c. {@link SendCpuTime}
 * times both pairs by CPU time. {@code sendAlreadyPending} is the early-out when the bit is still set.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SendBenchmark {
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle U8 = ValueLayout.JAVA_BYTE.varHandle();

    /** Whether the host counts events per port (configuration xen.host, stats): off by default. */
    @Param({"false", "true"})
    public boolean countEvents;

    GuestEventChannels domain;
    int port;
    MemorySegment shared;
    MemorySegment vcpu0;
    long pendingWord;
    long portBit;

    @Setup(Level.Trial)
    public void setUp() {
        Domains domains = new Domains();
        domains.countEvents(countEvents);
        domain = domains.create(1, GuestWidth.X86_64, new BenchVcpus(1, 1 << 20));
        domain.mapSharedInfo(16);
        domain.upcalls().setCallback(new UpcallRoute.Vector(0xf3));
        port = domain.bindIpi(0);
        shared = domain.sharedInfo();
        vcpu0 = domain.vcpuInfo(0);
        pendingWord = SharedInfoLayout.X86_64.evtchnPending() + (port / 64) * 8L;
        portBit = 1L << (port % 64);
    }

    @Benchmark
    public int sendAndGuestClear() {
        int rc = domain.send(port);
        // The guest's side, in Linux's order: upcall_pending = 0; xchg(pending_sel, 0); clear the port's bit.
        U8.setVolatile(vcpu0, 0L, (byte) 0);
        U64.getAndSet(vcpu0, VcpuInfoLayout.X86_64.pendingSel(), 0L);
        U64.getAndBitwiseAnd(shared, pendingWord, ~portBit);
        return rc;
    }

    @Benchmark
    public int sendAlreadyPending() {
        return domain.send(port);
    }

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    /** The same IPI on a domain that moved to the FIFO ABI: a control block and one array page. */
    @State(Scope.Thread)
    public static class FifoDomain {
        GuestEventChannels domain;
        int port;
        MemorySegment control;
        MemorySegment word;
        MemorySegment vcpu0;

        @Setup(Level.Trial)
        public void setUp() {
            domain = new Domains().create(1, GuestWidth.X86_64, new BenchVcpus(1, 1 << 20));
            domain.mapSharedInfo(16);
            domain.upcalls().setCallback(new UpcallRoute.Vector(0xf3));
            if (domain.initControl(0x20, 0, 0) != 0 || domain.expandArray(0x30) != 0) {
                throw new IllegalStateException("could not move to FIFO");
            }
            port = domain.bindIpi(0);
            control = domain.vcpus().memory().page(0x20).asSlice(0, EvtchnFifo.CONTROL_BLOCK_SIZE);
            word = domain.vcpus().memory().page(0x30).asSlice(4L * port, 4);
            vcpu0 = domain.vcpuInfo(0);
        }
    }

    /**
     * EVTCHNOP_send on the FIFO ABI, the whole path every time (PENDING, LINKED, head of an empty
     * queue, READY, upcall_pending, upcall), and the guest's side as Linux's FIFO handler does it:
     * upcall_pending = 0, xchg(READY, 0), read the head, unlink it with compare-and-swap, clear PENDING.
     */
    @Benchmark
    public int fifoSendAndGuestConsume(FifoDomain f) {
        int rc = f.domain.send(f.port);
        U8.setVolatile(f.vcpu0, 0L, (byte) 0);
        int ready = (int) U32.getAndSet(f.control, (long) EvtchnFifo.READY, 0);
        int head = (int) U32.getVolatile(f.control, (long) EvtchnFifo.head(EvtchnFifo.PRIORITY_DEFAULT));
        int w;
        do {
            w = (int) U32.getVolatile(f.word, 0L);
        } while (!U32.compareAndSet(f.word, 0L, w, w & ~(1 << EvtchnFifo.LINKED | EvtchnFifo.LINK_MASK)));
        U32.getAndBitwiseAnd(f.word, 0L, ~(1 << EvtchnFifo.PENDING));
        return rc + ready + head;
    }
}
