package benchmarks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;

/**
 * {@link SendBenchmark}'s two send + guest pairs (2-level and FIFO, counting off) timed by the
 * thread's CPU time rather than the wall clock, so that other load on the machine (which preempts
 * the thread) does not enter the figure; compare with the C references' CPU-time figures
 * (docs/PERFORMANCE.md). A third line is the Java floor: the 2-level pair's atomics alone on
 * segments the JIT can hoist, no host code, so that the pair's figure splits into what the atomics
 * cost on this machine and what the host adds. 12 rounds of N pairs each; the median and minimum
 * of the last 10 are printed, in ns a pair. Usage: {@code SendCpuTime [N]}.
 */
public final class SendCpuTime {
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle U8 = ValueLayout.JAVA_BYTE.varHandle();

    private SendCpuTime() {
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000_000;
        SendBenchmark two = new SendBenchmark();
        two.setUp();
        SendBenchmark.FifoDomain fifo = new SendBenchmark.FifoDomain();
        fifo.setUp();
        report("2-level send + guest clear", rounds(() -> twoLevel(two, n), n));
        report("FIFO send + guest consume", rounds(() -> fifo(fifo, n), n));
        report("2-level atomics alone (Java floor)", rounds(() -> atomicsAlone(two, n), n));
    }

    /** The 2-level pair's atomics in TwoLevel's order and widths, on loop-invariant segments. */
    private static long atomicsAlone(SendBenchmark b, int n) {
        long sink = 0;
        final MemorySegment shared = b.shared;
        final MemorySegment vcpu0 = b.vcpu0;
        final long pending = b.pendingWord;
        final long mask = pending - SharedInfoLayout.X86_64.evtchnPending() + SharedInfoLayout.X86_64.evtchnMask();
        final long bit = b.portBit;
        final long selBit = 1L << (b.port >>> 6);
        final long sel = VcpuInfoLayout.X86_64.pendingSel();
        for (int i = 0; i < n; i++) {
            if (((long) U64.getAndBitwiseOr(shared, pending, bit) & bit) == 0
                    && ((long) U64.getVolatile(shared, mask) & bit) == 0
                    && ((long) U64.getAndBitwiseOr(vcpu0, sel, selBit) & selBit) == 0
                    && ((int) U32.getAndBitwiseOr(vcpu0, 0L, 1) & 1) == 0) {
                sink++;
            }
            U8.setVolatile(vcpu0, 0L, (byte) 0);
            U64.getAndSet(vcpu0, sel, 0L);
            U64.getAndBitwiseAnd(shared, pending, ~bit);
        }
        if (sink != n) {
            throw new IllegalStateException("an upcall was missed: " + sink + " of " + n);
        }
        return sink;
    }

    private static long twoLevel(SendBenchmark b, int n) {
        long sink = 0;
        long pendingWord = b.pendingWord;
        long portBit = b.portBit;
        for (int i = 0; i < n; i++) {
            sink += b.domain.send(b.port);
            U8.setVolatile(b.vcpu0, 0L, (byte) 0);
            U64.getAndSet(b.vcpu0, VcpuInfoLayout.X86_64.pendingSel(), 0L);
            U64.getAndBitwiseAnd(b.shared, pendingWord, ~portBit);
        }
        return sink;
    }

    private static long fifo(SendBenchmark.FifoDomain f, int n) {
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += f.domain.send(f.port);
            U8.setVolatile(f.vcpu0, 0L, (byte) 0);
            sink += (int) U32.getAndSet(f.control, (long) EvtchnFifo.READY, 0);
            sink += (int) U32.getVolatile(f.control, (long) EvtchnFifo.head(EvtchnFifo.PRIORITY_DEFAULT));
            int w;
            do {
                w = (int) U32.getVolatile(f.word, 0L);
            } while (!U32.compareAndSet(f.word, 0L, w, w & ~(1 << EvtchnFifo.LINKED | EvtchnFifo.LINK_MASK)));
            U32.getAndBitwiseAnd(f.word, 0L, ~(1 << EvtchnFifo.PENDING));
        }
        return sink;
    }

    private static double[] rounds(java.util.function.LongSupplier round, int n) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double[] ns = new double[12];
        long sink = 0;
        for (int r = 0; r < ns.length; r++) {
            long t0 = mx.getCurrentThreadCpuTime();
            sink += round.getAsLong();
            ns[r] = (mx.getCurrentThreadCpuTime() - t0) / (double) n;
        }
        if (sink == Long.MIN_VALUE) {
            System.out.println(sink); // keeps the work observable
        }
        double[] measured = Arrays.copyOfRange(ns, 2, ns.length);
        Arrays.sort(measured);
        return measured;
    }

    private static void report(String what, double[] sorted) {
        System.out.printf("%s, CPU time: median %.2f ns, min %.2f ns a pair (10 rounds)%n", what,
                (sorted[4] + sorted[5]) / 2, sorted[0]);
    }
}
