package benchmarks;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import kvm.provider.timer.PortableTimerProvider;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.evtchnop.Status;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.hypercall.HypercallDispatcher;

/**
 * The whole dispatch of one hypercall through a host's dispatcher, when Xen answers it and when it
 * refuses it, so that a hostile guest costs no more a call than a well-behaved one:
 * EVTCHNOP_status of a bound port (read the struct, look the port up, write 24 bytes back) beside
 * the same op on a port past the domain's limit (-EINVAL), with its struct outside guest RAM
 * (-EFAULT), from ring 3 (-EPERM) and an unknown hypercall number (-ENOSYS). Each call's answer is
 * checked once in the setup.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class DispatchBenchmark {
    private static final long RAM = 1 << 20;
    private static final long ARG = 0x2000;

    /** A call of the guest's vCPU 0 with its struct at {@code arg1} in {@code ram} (guest-physical = guest-virtual). */
    private record Call(int number, int cpl, long arg0, long arg1, BenchVcpus ram) implements HypercallContext {
        @Override
        public int domid() {
            return 1;
        }

        @Override
        public int vcpu() {
            return 0;
        }

        @Override
        public boolean longMode() {
            return true;
        }

        @Override
        public long arg(int index) {
            return index == 0 ? arg0 : index == 1 ? arg1 : 0;
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return ram.slice(address, length);
        }
    }

    private PortableTimerProvider timers;
    private HypercallDispatcher dispatcher;
    private Call statusOk;
    private Call statusBadPort;
    private Call structOutsideRam;
    private Call fromRing3;
    private Call unknownNumber;

    @Setup(Level.Trial)
    public void setUp() {
        timers = new PortableTimerProvider();
        XenHost xen = new XenHost(timers, (domid, reason) -> { });
        BenchVcpus vcpus = new BenchVcpus(1, RAM);
        GuestEventChannels d = xen.createDomain(1, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT, DomainConsole.inMemory())
                .events();
        int port = d.bindIpi(0);
        dispatcher = xen.dispatcher();
        int size = EvtchnOp.STATUS.argSize();
        new Status(DomId.SELF, port, 0, 0, 0, 0).write(vcpus.slice(ARG, size));
        new Status(DomId.SELF, 1 << 20, 0, 0, 0, 0).write(vcpus.slice(ARG + 0x100, size));
        int status = EvtchnOp.STATUS.number();
        statusOk = check(new Call(Hypercall.EVENT_CHANNEL_OP, 0, status, ARG, vcpus), 0);
        statusBadPort = check(new Call(Hypercall.EVENT_CHANNEL_OP, 0, status, ARG + 0x100, vcpus), -Errno.EINVAL);
        structOutsideRam = check(new Call(Hypercall.EVENT_CHANNEL_OP, 0, status, RAM - 8, vcpus), -Errno.EFAULT);
        fromRing3 = check(new Call(Hypercall.EVENT_CHANNEL_OP, 3, status, ARG, vcpus), -Errno.EPERM);
        unknownNumber = check(new Call(120, 0, 0, 0, vcpus), -Errno.ENOSYS);
    }

    private Call check(Call call, long expected) {
        long rc = dispatcher.hypercall(call);
        if (rc != expected) {
            throw new IllegalStateException(call + " answered " + rc + ", not " + expected);
        }
        return call;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        timers.close();
    }

    @Benchmark
    public long statusOk() {
        return dispatcher.hypercall(statusOk);
    }

    @Benchmark
    public long statusBadPortEinval() {
        return dispatcher.hypercall(statusBadPort);
    }

    @Benchmark
    public long structOutsideRamEfault() {
        return dispatcher.hypercall(structOutsideRam);
    }

    @Benchmark
    public long fromRing3Eperm() {
        return dispatcher.hypercall(fromRing3);
    }

    @Benchmark
    public long unknownNumberEnosys() {
        return dispatcher.hypercall(unknownNumber);
    }
}
