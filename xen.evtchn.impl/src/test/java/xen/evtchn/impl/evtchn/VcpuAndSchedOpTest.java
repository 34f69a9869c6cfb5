package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.VcpuTimeInfo;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.hypercall.PeriodicTimer;
import xen.evtchn.api.abi.hypercall.RegisterVcpuInfo;
import xen.evtchn.api.abi.hypercall.SchedPoll;
import xen.evtchn.api.abi.hypercall.SchedShutdown;
import xen.evtchn.api.abi.hypercall.SingleshotTimer;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.hypercall.HypercallDispatcher;
import xen.evtchn.impl.hypercall.SchedOpHandler;
import xen.evtchn.impl.hypercall.SetTimerOpHandler;
import xen.evtchn.impl.hypercall.VcpuOpHandler;
import xen.evtchn.impl.time.DomainTime;
import xen.evtchn.impl.time.GuestClock;
import xen.evtchn.impl.time.ManualTimerProvider;

/** vcpu_op, set_timer_op and sched_op through the dispatcher, on a clock the test moves. */
class VcpuAndSchedOpTest extends EvtchnTestBase {
    private static final long MS = 1_000_000;
    private static final long ARG = 0x3000;
    private static final long LIST = 0x3800;

    private final ManualTimerProvider provider = new ManualTimerProvider(5_000 * MS);
    private final HypercallDispatcher dispatcher = new HypercallDispatcher();
    private final List<int[]> shutdowns = new ArrayList<>();
    private Guest g;
    private DomainTime time;

    @BeforeEach
    void setUp() {
        g = guest(GuestWidth.X86_64);
        time = new DomainTime(new GuestClock(provider::now, provider.now()), 2, provider, 1_000_000_000L,
                provider.now(), 0, vcpu -> g.d.raiseVirq(Virq.TIMER.number(), vcpu));
        DomainTable platforms = new DomainTable();
        platforms.create(g.d, XenVersionInfo.DEFAULT, DomainConsole.inMemory(), time);
        dispatcher.register(Hypercall.VCPU_OP, new VcpuOpHandler(platforms));
        dispatcher.register(Hypercall.SET_TIMER_OP, new SetTimerOpHandler(platforms));
        dispatcher.register(Hypercall.SCHED_OP, new SchedOpHandler(platforms,
                (domid, reason) -> shutdowns.add(new int[] {domid, reason})));
    }

    private long call(int nr, int vcpu, long... args) {
        return call(nr, vcpu, true, args);
    }

    private long call(int nr, int vcpu, boolean longMode, long... args) {
        return dispatcher.hypercall(GuestCall.of(nr, 1, vcpu, longMode, g.memory(), args));
    }

    private MemorySegment arg(long size) {
        return g.memory().slice(ARG, size);
    }

    // ---- vcpu_op -----------------------------------------------------------------------------

    @Test
    void aVcpuThatDoesNotExistAnswersEnoentBeforeAnythingElse() {
        for (int cmd : new int[] {VcpuOp.IS_UP, VcpuOp.SET_SINGLESHOT_TIMER, VcpuOp.REGISTER_VCPU_INFO, 99}) {
            assertEquals(-2, call(Hypercall.VCPU_OP, 0, cmd, 2, ARG), "cmd " + cmd);
            assertEquals(-2, call(Hypercall.VCPU_OP, 0, cmd, -1, ARG), "cmd " + cmd + ", vcpu 0xffffffff");
        }
        assertEquals(-38, call(Hypercall.VCPU_OP, 0, 99, 0, ARG), "unknown cmd: -ENOSYS");
        assertEquals(1, call(Hypercall.VCPU_OP, 0, VcpuOp.IS_UP, 1, 0));
    }

    @Test
    void registerVcpuInfoMovesItAndWritesThePvclock() {
        new RegisterVcpuInfo(0x20, 64).write(arg(RegisterVcpuInfo.SIZE));
        assertEquals(0, call(Hypercall.VCPU_OP, 1, VcpuOp.REGISTER_VCPU_INFO, 1, ARG));
        MemorySegment info = g.memory().slice(0x20 * 4096L + 64, 64);
        assertEquals(0x8000_0000, GuestField.u32(info, 32 + VcpuTimeInfo.TSC_TO_SYSTEM_MUL), "1 GHz TSC: mul 2^31");
        assertEquals(1, GuestField.u8(info, 32 + VcpuTimeInfo.TSC_SHIFT), "shift 1");
        assertEquals(provider.now(), GuestField.u64(info, 32 + VcpuTimeInfo.TSC_TIMESTAMP));
        assertEquals(0, GuestField.u32(info, 32 + VcpuTimeInfo.VERSION) & 1, "version even: record complete");

        assertEquals(-14, call(Hypercall.VCPU_OP, 0, VcpuOp.REGISTER_VCPU_INFO, 0, 1L << 40), "struct outside RAM");
        new RegisterVcpuInfo(0x20, 4090).write(arg(RegisterVcpuInfo.SIZE));
        assertEquals(-22, call(Hypercall.VCPU_OP, 0, VcpuOp.REGISTER_VCPU_INFO, 0, ARG), "no room at 4090");
    }

    @Test
    void singleshotTimerRaisesVirqTimerOnceAndOnlyTheVcpuItselfMaySetIt() {
        int port = g.d.bindVirq(Virq.TIMER.number(), 1);
        new SingleshotTimer(10 * MS, VcpuOp.SSHOTTMR_FUTURE).write(arg(SingleshotTimer.SIZE));
        assertEquals(-22, call(Hypercall.VCPU_OP, 0, VcpuOp.SET_SINGLESHOT_TIMER, 1, ARG), "vCPU 0 sets vCPU 1's timer");
        assertEquals(-22, call(Hypercall.VCPU_OP, 0, VcpuOp.STOP_SINGLESHOT_TIMER, 1, 0));
        assertEquals(0, call(Hypercall.VCPU_OP, 1, VcpuOp.SET_SINGLESHOT_TIMER, 1, ARG));
        provider.advanceTo(provider.now() + 9 * MS);
        assertFalse(g.pending(port));
        provider.advanceTo(provider.now() + MS);
        assertTrue(g.pending(port), "VIRQ_TIMER on vCPU 1's port");
        g.clearPendingBit(port);
        provider.advanceTo(provider.now() + 100 * MS);
        assertFalse(g.pending(port), "once");

        new SingleshotTimer(200 * MS, 0).write(arg(SingleshotTimer.SIZE));
        call(Hypercall.VCPU_OP, 1, VcpuOp.SET_SINGLESHOT_TIMER, 1, ARG);
        assertEquals(0, call(Hypercall.VCPU_OP, 1, VcpuOp.STOP_SINGLESHOT_TIMER, 1, 0));
        provider.advanceTo(provider.now() + 300 * MS);
        assertFalse(g.pending(port), "stopped");

        new SingleshotTimer(-1L, 0).write(arg(SingleshotTimer.SIZE)); // 2^64-1: negative s_time_t, in the past
        call(Hypercall.VCPU_OP, 1, VcpuOp.SET_SINGLESHOT_TIMER, 1, ARG);
        provider.advanceTo(provider.now());
        assertTrue(g.pending(port), "a deadline in the past fires at once (the future flag is ignored)");
    }

    @Test
    void periodicTimerChecksItsPeriodAndTicks() {
        int port = g.d.bindVirq(Virq.TIMER.number(), 0);
        new PeriodicTimer(MS - 1).write(arg(PeriodicTimer.SIZE));
        assertEquals(-22, call(Hypercall.VCPU_OP, 0, VcpuOp.SET_PERIODIC_TIMER, 0, ARG));
        new PeriodicTimer(10 * MS).write(arg(PeriodicTimer.SIZE));
        assertEquals(0, call(Hypercall.VCPU_OP, 1, VcpuOp.SET_PERIODIC_TIMER, 0, ARG), "another vCPU may set it");
        for (int i = 0; i < 3; i++) {
            provider.advanceTo(provider.now() + 10 * MS);
            assertTrue(g.pending(port), "tick " + i);
            g.clearPendingBit(port);
        }
        assertEquals(0, call(Hypercall.VCPU_OP, 0, VcpuOp.STOP_PERIODIC_TIMER, 0, 0));
        provider.advanceTo(provider.now() + 50 * MS);
        assertFalse(g.pending(port));
    }

    // ---- set_timer_op ------------------------------------------------------------------------

    @Test
    void setTimerOpArmsTheCallersSingleshotFromOneOrTwoRegisters() {
        assertEquals(0, call(Hypercall.SET_TIMER_OP, 1, 30 * MS));
        assertEquals(30 * MS, time.timers().state(1).singleshot());
        long deadline = (3L << 32) + 5;
        assertEquals(0, call(Hypercall.SET_TIMER_OP, 0, false, 5, 3));
        assertEquals(deadline, time.timers().state(0).singleshot(), "32-bit caller: low, high");
        assertEquals(0, call(Hypercall.SET_TIMER_OP, 1, 0));
        assertEquals(-1, time.timers().state(1).singleshot(), "0 stops");
    }

    // ---- sched_op ----------------------------------------------------------------------------

    @Test
    void shutdownGoesToTheHostWithItsReason() {
        new SchedShutdown(SchedOp.SHUTDOWN_CRASH).write(arg(SchedShutdown.SIZE));
        assertEquals(0, call(Hypercall.SCHED_OP, 0, SchedOp.SHUTDOWN, ARG));
        assertEquals(1, shutdowns.size());
        assertEquals(1, shutdowns.get(0)[0]);
        assertEquals(SchedOp.SHUTDOWN_CRASH, shutdowns.get(0)[1]);
        assertEquals(-14, call(Hypercall.SCHED_OP, 0, SchedOp.SHUTDOWN, 1L << 40), "reason outside RAM");
        assertEquals(0, call(Hypercall.SCHED_OP, 0, SchedOp.YIELD, 0));
        assertEquals(-38, call(Hypercall.SCHED_OP, 0, 77, 0));
    }

    @Test
    void softResetClosesPortsAndStopsSingleshotTimersWithoutTellingTheHost() {
        int port = g.d.bindVirq(Virq.TIMER.number(), 0);
        call(Hypercall.SET_TIMER_OP, 0, 10 * MS);
        new SchedShutdown(SchedOp.SHUTDOWN_SOFT_RESET).write(arg(SchedShutdown.SIZE));
        assertEquals(0, call(Hypercall.SCHED_OP, 0, SchedOp.SHUTDOWN, ARG));
        assertTrue(shutdowns.isEmpty());
        assertEquals(EvtchnStat.CLOSED, g.d.status(DomId.SELF, port).status());
        assertEquals(-1, time.timers().state(0).singleshot());
        assertEquals(0, provider.armed());
    }

    @Test
    void pollChecksItsArgumentsAndReturnsOnAPendingMaskedPortOrItsTimeout() {
        int port = g.d.bindIpi(0);
        g.mask(port);
        GuestField.u32(g.memory().ram(), LIST, port);
        new SchedPoll(LIST, 129, 0).write(arg(24), GuestWidth.X86_64);
        assertEquals(-22, call(Hypercall.SCHED_OP, 0, SchedOp.POLL, ARG), "more than 128 ports");
        new SchedPoll(1L << 40, 1, 0).write(arg(24), GuestWidth.X86_64);
        assertEquals(-14, call(Hypercall.SCHED_OP, 0, SchedOp.POLL, ARG), "port list outside RAM");
        GuestField.u32(g.memory().ram(), LIST + 4, 3000);
        new SchedPoll(LIST, 2, 0).write(arg(24), GuestWidth.X86_64);
        assertEquals(-22, call(Hypercall.SCHED_OP, 0, SchedOp.POLL, ARG), "a port never valid (XSA-221)");

        new SchedPoll(LIST, 1, time.clock().now() - 1).write(arg(24), GuestWidth.X86_64);
        assertEquals(0, call(Hypercall.SCHED_OP, 0, SchedOp.POLL, ARG), "timeout already passed: returns");
        g.d.send(port);
        new SchedPoll(LIST, 1, 0).write(arg(16), GuestWidth.X86_32);
        assertEquals(0, call(Hypercall.SCHED_OP, 0, false, SchedOp.POLL, ARG), "32-bit layout; masked port pending");
    }
}
