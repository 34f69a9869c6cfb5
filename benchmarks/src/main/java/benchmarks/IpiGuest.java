package benchmarks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import kvm.provider.software.GuestCode;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.software.SoftwareVcpu;
import org.HdrHistogram.Histogram;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.evtchnop.BindIpi;
import xen.evtchn.api.abi.evtchnop.Send;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.abi.hypercall.HvmParamArg;

/**
 * A benchmark-only guest kernel for {@link GuestEvents}: two vCPUs of a 64-bit guest that pass IPIs
 * to each other as fast as they can, which the reference guest cannot (it sends at most one IPI
 * per timer tick, at most {@code GuestConfig.MAX_HZ} ticks a second). It reaches the hypervisor only
 * through hypercalls whose argument structs it writes into its own memory with the api codecs:
 * vCPU 0 maps shared_info (XENMEM_add_to_physmap) and sets the callback vector
 * (HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)); each vCPU binds an IPI port (EVTCHNOP_bind_ipi) and
 * publishes it; then
 * <ul>
 * <li>{@link Mode#PING_PONG}: vCPU 0 sends to vCPU 1's port (EVTCHNOP_send), each vCPU waits for
 *     an event ({@link Wait#HALT}: in sti;hlt; {@link Wait#BUSY}: in a loop calling
 *     checkInterrupts()) and answers it with a send to the other's port. One round trip = two IPIs.
 * <li>{@link Mode#LATENCY}: vCPU 0 sends one IPI at a time to vCPU 1, reading System.nanoTime()
 *     just before the hypercall; vCPU 1 waits ({@code HALT} or {@code BUSY}) and its upcall handler
 *     records (System.nanoTime() at the handler's first instruction − the send stamp) in a
 *     histogram. The next send waits until vCPU 1 took the event, is back in its wait (for
 *     {@code HALT}: its thread parked in hlt) and a further gap has passed.
 * </ul>
 * The upcall handler is a 2-level scan as the ABI prescribes (upcall_pending = 0, xchg
 * pending_sel, for each selected word the pending and unmasked bits, each cleared with an atomic
 * test-and-clear before dispatch). vcpu_info is the legacy one inside shared_info.
 *
 * <pre>
 * gfn 0       unused
 * gfn 1       shared_info (XENMEM_add_to_physmap)
 * gfn 2       control: BOOT_DONE u32, READY u32, PORTS u32[2]
 * gfn 3 + n   vCPU n's hypercall argument area
 * </pre>
 */
final class IpiGuest implements GuestCode {
    enum Mode { PING_PONG, LATENCY }

    enum Wait { HALT, BUSY }

    static final int VCPUS = 2;
    static final int CALLBACK_VECTOR = 0xF3;
    static final long HIGHEST_NANOS = 60_000_000_000L;

    private static final int PAGE = GuestMemory.PAGE_SIZE;
    private static final long SHARED_INFO_GFN = 1;
    private static final long CONTROL_GFN = 2;
    private static final long SCRATCH_GFN = 3;
    static final long RAM_BYTES = (SCRATCH_GFN + VCPUS) * PAGE;

    private static final long BOOT_DONE = 0;
    private static final long READY = 4;
    private static final long PORTS = 8;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final SharedInfoLayout SI = SharedInfoLayout.X86_64;
    private static final VcpuInfoLayout VI = VcpuInfoLayout.X86_64;
    private static final GuestWidth WIDTH = GuestWidth.X86_64;

    private final SoftwareBackend backend;
    private final Mode mode;
    private final Wait wait;
    private final long gapNanos;
    private final MemorySegment ram;
    private final MemorySegment shared;
    private final MemorySegment control;
    private final AtomicReferenceArray<Thread> threads = new AtomicReferenceArray<>(VCPUS);
    /** Each vCPU's own IPI port, written by that vCPU before it says READY. */
    private final int[] ownPort = new int[VCPUS];
    /** IPI events each vCPU's handler dispatched on its own port; single writer (that vCPU). */
    private final AtomicLong[] received = { new AtomicLong(), new AtomicLong() };
    /** Latency samples, written by vCPU 1's handler only; read after the guest stopped. */
    final Histogram latency = new Histogram(HIGHEST_NANOS, 3);
    /** Samples with a receive stamp before the send stamp (never expected on one clock). */
    long negative;
    volatile boolean recording;
    volatile boolean done;
    /** System.nanoTime() just before the send being measured. */
    private volatile long sentAt;
    private volatile boolean ready;

    /**
     * @param gapNanos LATENCY: pause after the receiver is back in its wait before the next send
     */
    IpiGuest(SoftwareBackend backend, Mode mode, Wait wait, long gapNanos) {
        this.backend = backend;
        this.mode = mode;
        this.wait = wait;
        this.gapNanos = gapNanos;
        this.ram = backend.memory().ram();
        this.shared = ram.asSlice(SHARED_INFO_GFN * PAGE, PAGE);
        this.control = ram.asSlice(CONTROL_GFN * PAGE, PAGE);
        control.fill((byte) 0);
    }

    /** IPI events vCPU {@code vcpu} took so far. */
    long received(int vcpu) {
        return received[vcpu].get();
    }

    /** True once both vCPUs bound their ports and the run proper started. */
    boolean ready() {
        return ready;
    }

    // ---- GuestCode ----

    @Override
    public void run(SoftwareVcpu cpu) {
        int id = cpu.id();
        threads.set(id, Thread.currentThread());
        cpu.cli();
        if (id == 0) {
            mapSharedInfo(cpu);
            setCallbackVector(cpu);
            U32.setRelease(control, BOOT_DONE, 1);
        } else if (!spinUntil(cpu, () -> (int) U32.getAcquire(control, BOOT_DONE) != 0)) {
            return;
        }
        int port = bindIpi(cpu);
        ownPort[id] = port;
        U32.setRelease(control, PORTS + 4L * id, port);
        U32.getAndAdd(control, READY, 1);
        if (!spinUntil(cpu, () -> (int) U32.getAcquire(control, READY) == VCPUS)) {
            return;
        }
        int peerPort = (int) U32.getAcquire(control, PORTS + 4L * (1 - id));
        ready = true;
        if (mode == Mode.PING_PONG) {
            pingPong(cpu, peerPort);
        } else if (id == 0) {
            sendSamples(cpu, peerPort);
        } else {
            waitForEvents(cpu);
        }
    }

    @Override
    public void upcall(SoftwareVcpu cpu, UpcallRoute route) {
        long entered = System.nanoTime();
        int id = cpu.id();
        long info = SI.vcpuInfo(id);
        // upcall_pending = 0 (byte 0 of the little-endian word; upcall_mask, byte 1, is kept)
        U32.getAndBitwiseAnd(shared, info + VI.upcallPending(), 0xFFFF_FF00);
        long sel = (long) U64.getAndSet(shared, info + VI.pendingSel(), 0L);
        while (sel != 0) {
            int w = Long.numberOfTrailingZeros(sel);
            sel &= sel - 1;
            long pendingWord = SI.evtchnPending() + 8L * w;
            long live = (long) U64.getVolatile(shared, pendingWord)
                    & ~(long) U64.getVolatile(shared, SI.evtchnMask() + 8L * w);
            while (live != 0) {
                int bit = Long.numberOfTrailingZeros(live);
                live &= live - 1;
                long m = 1L << bit;
                if (((long) U64.getAndBitwiseAnd(shared, pendingWord, ~m) & m) != 0) {
                    dispatch(id, w * 64 + bit, entered);
                }
            }
        }
    }

    private void dispatch(int id, int port, long entered) {
        if (port != ownPort[id]) {
            return;
        }
        if (mode == Mode.LATENCY && id == 1 && recording) {
            long d = entered - sentAt;
            if (d < 0) {
                negative++;
            } else {
                latency.recordValue(Math.min(d, HIGHEST_NANOS));
            }
        }
        received[id].incrementAndGet();
    }

    // ---- the two modes ----

    /** Answer every event with a send to the other vCPU; vCPU 0 serves first. */
    private void pingPong(SoftwareVcpu cpu, int peerPort) {
        AtomicLong mine = received[cpu.id()];
        long seen = 0;
        cpu.sti();
        if (cpu.id() == 0) {
            send(cpu, peerPort);
        }
        while (!done && !cpu.stopRequested()) {
            long r = mine.get();
            if (r == seen) {
                if (wait == Wait.HALT) {
                    cpu.halt();
                } else {
                    cpu.checkInterrupts();
                }
                continue;
            }
            seen = r;
            send(cpu, peerPort);
        }
    }

    /** vCPU 0 in LATENCY mode: one send at a time once vCPU 1 waits again. */
    private void sendSamples(SoftwareVcpu cpu, int peerPort) {
        AtomicLong theirs = received[1];
        SoftwareVcpu receiver = backend.vcpu(1);
        Thread receiverThread = null;
        while (receiverThread == null) {
            receiverThread = threads.get(1);
            Thread.onSpinWait();
        }
        while (!done && !cpu.stopRequested()) {
            // Wait until the receiver is back in its wait...
            if (wait == Wait.HALT) {
                while (!(receiver.isHalted() && receiverThread.getState() == Thread.State.WAITING)) {
                    if (done || cpu.stopRequested()) {
                        return;
                    }
                    Thread.onSpinWait();
                }
            }
            // ... and a little longer.
            long until = System.nanoTime() + gapNanos;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            long before = theirs.get();
            sentAt = System.nanoTime();
            send(cpu, peerPort);
            while (theirs.get() == before) {
                if (done || cpu.stopRequested()) {
                    return;
                }
                Thread.onSpinWait();
            }
        }
    }

    /** vCPU 1 in LATENCY mode: take events in sti;hlt or in a busy loop. */
    private void waitForEvents(SoftwareVcpu cpu) {
        cpu.sti();
        while (!cpu.stopRequested()) {
            if (wait == Wait.HALT) {
                cpu.halt();
            } else {
                cpu.checkInterrupts();
            }
        }
    }

    // ---- hypercalls, each struct in the vCPU's own argument area ----

    private MemorySegment args(SoftwareVcpu cpu, long size) {
        MemorySegment s = ram.asSlice(argsAddress(cpu), size);
        s.fill((byte) 0);
        return s;
    }

    private static long argsAddress(SoftwareVcpu cpu) {
        return (SCRATCH_GFN + cpu.id()) * PAGE;
    }

    private void mapSharedInfo(SoftwareVcpu cpu) {
        new AddToPhysmap(DomId.SELF, 0, XenMapSpace.SHARED_INFO, 0, SHARED_INFO_GFN)
                .write(args(cpu, AddToPhysmap.size(WIDTH)), WIDTH);
        check(cpu.hypercall(Hypercall.MEMORY_OP, XenMem.ADD_TO_PHYSMAP, argsAddress(cpu)),
                "XENMEM_add_to_physmap(shared_info)");
    }

    private void setCallbackVector(SoftwareVcpu cpu) {
        new HvmParamArg(DomId.SELF, HvmParam.CALLBACK_IRQ, CallbackVia.vector(CALLBACK_VECTOR))
                .write(args(cpu, HvmParamArg.SIZE));
        check(cpu.hypercall(Hypercall.HVM_OP, HvmOp.SET_PARAM, argsAddress(cpu)),
                "HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)");
    }

    private int bindIpi(SoftwareVcpu cpu) {
        MemorySegment s = args(cpu, EvtchnOp.BIND_IPI.argSize());
        new BindIpi(cpu.id(), 0).write(s);
        check(cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, EvtchnOp.BIND_IPI.number(), argsAddress(cpu)),
                "EVTCHNOP_bind_ipi");
        return BindIpi.read(s).port();
    }

    private void send(SoftwareVcpu cpu, int port) {
        new Send(port).write(ram.asSlice(argsAddress(cpu), EvtchnOp.SEND.argSize()));
        long rc = cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, EvtchnOp.SEND.number(), argsAddress(cpu));
        if (rc < 0) {
            throw new IllegalStateException("vCPU " + cpu.id() + ": EVTCHNOP_send port " + port + " failed: " + rc);
        }
    }

    private static void check(long rc, String what) {
        if (rc < 0) {
            throw new IllegalStateException(what + " failed: " + rc);
        }
    }

    private static boolean spinUntil(SoftwareVcpu cpu, java.util.function.BooleanSupplier condition) {
        for (int spins = 1; !condition.getAsBoolean(); spins++) {
            if (cpu.stopRequested()) {
                return false;
            }
            if ((spins & 63) == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        return true;
    }
}
