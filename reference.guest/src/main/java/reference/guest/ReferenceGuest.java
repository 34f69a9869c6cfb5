package reference.guest;

import static reference.guest.GuestMemoryMap.BOOT_DONE;
import static reference.guest.GuestMemoryMap.FINISHED;
import static reference.guest.GuestMemoryMap.IPI_MAILBOX;
import static reference.guest.GuestMemoryMap.IPI_PORTS;
import static reference.guest.GuestMemoryMap.STOPPED;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import kvm.provider.software.GuestCode;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.software.SoftwareVcpu;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.VcpuTimeInfo;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.XenFeat;
import xen.evtchn.api.abi.hypercall.CallbackVia;

/**
 * The reference guest kernel. It reaches the hypervisor only through hypercalls whose arguments
 * are structs in its own memory ({@link GuestMemoryMap}), in the order Linux's Xen HVM support
 * uses them:
 * <ol>
 * <li>vCPU 0 boots the platform: XENVER_version, XENVER_get_features (it needs the vector
 * callback and pvclock), XENMEM_add_to_physmap(shared_info), masks every port,
 * HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ, vector), a banner with CONSOLEIO_write; the other vCPUs
 * wait for it (a flag in guest memory).
 * <li>Every vCPU: VCPUOP_register_vcpu_info for itself, VCPUOP_stop_periodic_timer,
 * EVTCHNOP_bind_virq(VIRQ_TIMER) and EVTCHNOP_bind_ipi, each port unmasked with EVTCHNOP_unmask;
 * the IPI port is published in guest memory.
 * <li>Ticks: VCPUOP_set_singleshot_timer at now + 1/HZ, "now" read from pvclock; the vCPU idles in
 * sti;hlt. Each timer VIRQ re-arms the next tick at previous deadline + period (a tick-based
 * kernel: late ticks are caught up) and, every N ticks, sends an IPI (EVTCHNOP_send) to the next
 * vCPU, after queueing a message in that vCPU's mailbox.
 * <li>Upcalls run Linux's round-robin 2-level scan ({@link EventScanner}), or in FIFO mode
 * ({@link GuestConfig#fifoPorts}) Linux's FIFO consumer ({@link FifoScanner}): vCPU 0 calls
 * EVTCHNOP_init_control and expand_array for the pages it needs, each other vCPU init_control
 * for itself; each binds its share of the FIFO ports with priorities 0..15 in turn and, every
 * tick, sends a batch on them that it must consume once each, higher priorities first.
 * <li>After {@code runFor} each vCPU stops its timer (VCPUOP_stop_singleshot_timer), waits for
 * the others to stop (still taking IPIs), drains its mailbox; vCPU 0 then writes a summary with
 * CONSOLEIO_write and calls SCHEDOP_shutdown(SHUTDOWN_poweroff). The others return from run().
 * </ol>
 * A failed hypercall panics the guest: {@link GuestPanic} ends run(), the backend's join reports
 * it and the other vCPUs stop. If the backend asks the vCPUs to stop, run() returns quietly
 * wherever it is ({@link #finished()} stays false).
 *
 * <p>Start it with {@link #start(SoftwareBackend, GuestConfig)} on a backend whose domain is a
 * 64-bit guest domain with a hypercall handler for event_channel_op, memory_op, hvm_op,
 * vcpu_op, sched_op and console_io. One guest object runs once.
 */
public final class ReferenceGuest implements GuestCode {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final SharedInfoLayout SHARED = SharedInfoLayout.X86_64;

    private final GuestConfig config;
    private final MemorySegment ram;
    private final MemorySegment control;
    private final VcpuCounters[] counters;
    /** Each vCPU's kernel state, set by the vCPU itself and used only on its thread. */
    private final Vcpu[] vcpus;
    private final AtomicReference<HypercallError> lastError = new AtomicReference<>();
    /** Console mode: vCPU 0's console workload (set by vCPU 0 at boot, used on its thread only). */
    private ConsoleWorkload console;
    private volatile boolean finished;

    /**
     * A guest that will run on {@code vcpus}, whose RAM (its memory below the toolstack's special
     * frames) must be at least {@link GuestConfig#ramBytes()}. Zeroes the guest's control page, as
     * a loader clears a kernel's BSS.
     */
    public ReferenceGuest(GuestConfig config, VcpuBackend vcpus) {
        this.config = Objects.requireNonNull(config, "config");
        GuestMemory memory = vcpus.memory();
        SpecialFrames special = vcpus.specialFrames();
        long usable = special.count() == 0 ? memory.size() : special.first() * GuestMemoryMap.PAGE;
        if (usable < config.ramBytes()) {
            throw new IllegalArgumentException("the reference guest with " + config.vcpus() + " vCPUs needs "
                    + config.ramBytes() + " bytes of guest RAM: got " + usable);
        }
        this.ram = memory.ram();
        this.control = ram.asSlice(GuestMemoryMap.controlAddress(), GuestMemoryMap.PAGE);
        control.fill((byte) 0);
        this.counters = new VcpuCounters[config.vcpus()];
        for (int v = 0; v < counters.length; v++) {
            counters[v] = new VcpuCounters();
        }
        this.vcpus = new Vcpu[config.vcpus()];
    }

    /**
     * Starts a guest with {@code config} on every vCPU of {@code backend}, which must have exactly
     * {@code config.vcpus()} vCPUs and enough RAM. Wait with {@link SoftwareBackend#join}.
     */
    public static ReferenceGuest start(SoftwareBackend backend, GuestConfig config) {
        if (backend.vcpuCount() != config.vcpus()) {
            throw new IllegalArgumentException("dom" + backend.domid() + " has " + backend.vcpuCount()
                    + " vCPUs; the guest configuration asks for " + config.vcpus());
        }
        ReferenceGuest guest = new ReferenceGuest(config, backend);
        backend.start(guest);
        return guest;
    }

    public GuestConfig config() {
        return config;
    }

    /** vCPU {@code vcpu}'s counters now. */
    public VcpuStats stats(int vcpu) {
        return counters[Objects.checkIndex(vcpu, counters.length)].snapshot(vcpu);
    }

    /** vCPU {@code vcpu}'s FIFO-mode counters now. */
    public FifoStats fifoStats(int vcpu) {
        return counters[Objects.checkIndex(vcpu, counters.length)].fifoSnapshot(vcpu);
    }

    /** Every vCPU's counters now, by vCPU. */
    public List<VcpuStats> stats() {
        List<VcpuStats> all = new ArrayList<>(counters.length);
        for (int v = 0; v < counters.length; v++) {
            all.add(stats(v));
        }
        return all;
    }

    /** Failed hypercalls on all vCPUs (the guest panics at the first, so at most one per vCPU). */
    public long hypercallErrors() {
        long n = 0;
        for (VcpuCounters c : counters) {
            n += c.hypercallErrors.get();
        }
        return n;
    }

    /** The last hypercall that failed, if any. */
    public Optional<HypercallError> lastHypercallError() {
        return Optional.ofNullable(lastError.get());
    }

    /** True once vCPU 0's SCHEDOP_shutdown(poweroff) returned: the guest ran to its end. */
    public boolean finished() {
        return finished;
    }

    // ---- GuestCode ----

    @Override
    public void run(SoftwareVcpu cpu) {
        if (cpu.id() >= config.vcpus()) {
            throw new IllegalStateException("vCPU " + cpu.id() + " runs a guest configured for "
                    + config.vcpus() + " vCPUs");
        }
        cpu.cli();
        Vcpu k = new Vcpu(cpu);
        vcpus[cpu.id()] = k;
        if (cpu.id() == 0) {
            k.bootPlatform();
        } else if (!spinUntil(cpu, false, () -> (int) U32.getAcquire(control, BOOT_DONE) != 0)) {
            return;
        }
        k.bringUp();
        k.startTicking();
        while (k.ticking && !cpu.stopRequested()) {
            cpu.halt();
        }
        if (cpu.stopRequested()) {
            return;
        }
        k.normal.stopSingleshotTimer();
        if (console != null && cpu.id() == 0 && !spinUntil(cpu, true, () -> console.finish(k.normal, k.clock.now()))) {
            return;
        }
        U32.getAndAdd(control, STOPPED, 1);
        // No vCPU sends an IPI once every vCPU has stopped ticking; until then keep taking them.
        if (!spinUntil(cpu, true, () -> (int) U32.getAcquire(control, STOPPED) == config.vcpus())) {
            return;
        }
        cpu.cli();
        k.drainMailbox();
        U32.getAndAdd(control, FINISHED, 1);
        if (cpu.id() != 0) {
            return;
        }
        if (!spinUntil(cpu, false, () -> (int) U32.getAcquire(control, FINISHED) == config.vcpus())) {
            return;
        }
        k.normal.consoleWrite(summary());
        k.normal.shutdown(SchedOp.SHUTDOWN_POWEROFF);
        finished = true;
    }

    @Override
    public void upcall(SoftwareVcpu cpu, UpcallRoute route) {
        int id = cpu.id();
        counters[id].upcalls.incrementAndGet();
        Vcpu k = vcpus[id];
        int handled = k == null || k.scanner == null ? 0 : k.scanner.handleUpcall();
        if (handled == 0) {
            counters[id].spuriousUpcalls.incrementAndGet();
        }
    }

    // ---- helpers ----

    /**
     * Spins (pause, now and then a yield) until {@code condition} holds, taking interrupts if
     * {@code interrupts}; false if the backend asked the vCPU to stop first.
     */
    private static boolean spinUntil(SoftwareVcpu cpu, boolean interrupts, BooleanSupplier condition) {
        if (interrupts) {
            cpu.sti();
        }
        for (int spins = 1; !condition.getAsBoolean(); spins++) {
            if (cpu.stopRequested()) {
                return false;
            }
            if (interrupts) {
                cpu.checkInterrupts();
            }
            if ((spins & 63) == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
        return true;
    }

    private String banner(int xenVersion) {
        return "reference guest on Xen " + (xenVersion >>> 16) + "." + (xenVersion & 0xFFFF) + ": " + config.vcpus() + " vCPUs, " + config.hz() + " Hz for " + config.runFor()
                + (config.ipis() ? ", an IPI to the next vCPU every " + config.ipiEveryTicks() + " ticks" : ", no IPIs")
                + (config.fifo() ? ", FIFO ABI with " + config.fifoPorts() + " more ports" : "") + "\n";
    }

    private String summary() {
        StringBuilder b = new StringBuilder();
        long ticks = 0;
        long sent = 0;
        long received = 0;
        for (VcpuStats s : stats()) {
            b.append("reference guest: ").append(s).append('\n');
            if (config.fifo()) {
                b.append("reference guest: ").append(fifoStats(s.vcpu())).append('\n');
            }
            ticks += s.ticks();
            sent += s.ipisSent();
            received += s.ipisReceived();
        }
        if (console != null) {
            b.append(console.summary());
        }
        b.append("reference guest: ").append(ticks).append(" ticks, ").append(sent).append(" IPIs sent, ")
                .append(received).append(" received; powering off\n");
        return b.toString();
    }

    /** One vCPU's kernel: its hypercall contexts, port table, clock and tick state. */
    private final class Vcpu {
        final SoftwareVcpu cpu;
        final int id;
        final VcpuCounters count;
        /** Hypercalls from run() ... */
        final Hypervisor normal;
        /** ... and from the upcall handler, each with its own argument area. */
        final Hypervisor irq;
        PortEvents scanner;
        /** FIFO mode: this vCPU's FIFO ports, and per port the batch its outstanding event belongs to (-1: none) and its place in it. */
        int[] fifoPorts;
        long[] fifoBatchOf;
        int[] fifoSeq;
        int fifoCursor;
        long fifoBatches;
        /** Per recent batch (by number mod 8): the priority and place of the event consumed last. */
        final int[] batchLastPriority = new int[8];
        final int[] batchLastSeq = new int[8];
        XenClock clock;
        boolean ticking;
        long period;
        long deadline;
        long end;

        Vcpu(SoftwareVcpu cpu) {
            this.cpu = cpu;
            this.id = cpu.id();
            this.count = counters[id];
            long scratch = GuestMemoryMap.scratchAddress(id);
            long text = scratch + GuestMemoryMap.TEXT;
            this.normal = new Hypervisor(cpu, ram, scratch + GuestMemoryMap.ARGS, text, count, lastError::set);
            this.irq = new Hypervisor(cpu, ram, scratch + GuestMemoryMap.IRQ_ARGS, text, count, lastError::set);
        }

        /** vCPU 0, once: shared_info, every port masked, the callback, the banner; then releases the others. */
        void bootPlatform() {
            int version = normal.xenVersion();
            int features = normal.features(0);
            requireFeature(features, XenFeat.HVM_CALLBACK_VECTOR, "XENFEAT_hvm_callback_vector",
                    "upcalls by vector, the only callback this guest uses");
            requireFeature(features, XenFeat.HVM_SAFE_PVCLOCK, "XENFEAT_hvm_safe_pvclock",
                    "the pvclock the guest ticks by");
            normal.mapSharedInfo(GuestMemoryMap.SHARED_INFO_GFN);
            MemorySegment shared = sharedInfo();
            if (config.fifo()) {
                // Linux's xen_evtchn_fifo_init on the boot CPU: its control block, then the array pages it needs.
                normal.initControl(GuestMemoryMap.FIFO_CONTROL_GFN, 0);
                for (int p = 0; p < config.fifoArrayPages(); p++) {
                    normal.expandArray(GuestMemoryMap.EVENT_ARRAY_GFN + p);
                }
            } else {
                for (int w = 0; w < EventScanner.WORD_BITS; w++) {
                    // Linux masks every port at boot and unmasks each as it binds it.
                    U64.getAndBitwiseOr(shared, SHARED.evtchnMask() + (long) w * Long.BYTES, -1L);
                }
            }
            normal.setHvmParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(config.callbackVector()));
            if (config.console()) {
                openConsole();
            }
            normal.consoleWrite(banner(version));
            U32.setRelease(control, BOOT_DONE, 1);
        }

        /** Console mode: the ring and port the toolstack announced, as hvc_xen's xen_hvm_console_init reads them. */
        void openConsole() {
            long pfn = normal.getHvmParam(HvmParam.CONSOLE_PFN);
            long port = normal.getHvmParam(HvmParam.CONSOLE_EVTCHN);
            if (pfn == 0 || port <= 0 || port > Integer.MAX_VALUE || pfn > ram.byteSize() / GuestMemoryMap.PAGE - 1) {
                throw new GuestPanic("vCPU 0: no usable console ring: HVM_PARAM_CONSOLE_PFN 0x" + Long.toHexString(pfn)
                        + ", HVM_PARAM_CONSOLE_EVTCHN " + port);
            }
            console = new ConsoleWorkload(new ConsoleRingDriver(ram.asSlice(pfn * GuestMemoryMap.PAGE, GuestMemoryMap.PAGE)),
                    (int) port, config);
        }

        private void requireFeature(int features, int feature, String name, String why) {
            if ((features & XenFeat.bit(feature)) == 0) {
                throw new GuestPanic("vCPU " + id + ": the hypervisor does not offer " + name + " (" + why + ")");
            }
        }

        /** Every vCPU: its vcpu_info, its clock, VIRQ_TIMER and its IPI port. */
        void bringUp() {
            normal.registerVcpuInfo(GuestMemoryMap.VCPU_INFO_GFN, GuestMemoryMap.vcpuInfoOffset(id));
            MemorySegment info = ram.asSlice(GuestMemoryMap.vcpuInfoAddress(id), VcpuInfoLayout.SIZE);
            clock = new XenClock(info.asSlice(VcpuInfoLayout.X86_64.time(), VcpuTimeInfo.SIZE), cpu::rdtsc);
            if (!clock.isValid()) {
                throw new GuestPanic("vCPU " + id + ": vcpu_time_info is empty after VCPUOP_register_vcpu_info"
                        + " (tsc_to_system_mul 0): no clock to tick by");
            }
            if (config.fifo()) {
                if (id != 0) {
                    normal.initControl(GuestMemoryMap.FIFO_CONTROL_GFN, id * GuestMemoryMap.FIFO_CONTROL_STRIDE);
                }
                scanner = new FifoScanner(ram.asSlice(GuestMemoryMap.fifoControlAddress(id), EvtchnFifo.CONTROL_BLOCK_SIZE),
                        ram.asSlice(GuestMemoryMap.eventArrayAddress(), (long) config.fifoArrayPages() * GuestMemoryMap.PAGE),
                        info);
            } else {
                scanner = new EventScanner(sharedInfo(), info);
            }
            normal.stopPeriodicTimer();
            int timerPort = normal.bindVirq(Virq.TIMER.number());
            scanner.bind(timerPort, this::onTimer);
            normal.unmask(timerPort);
            int ipiPort = normal.bindIpi();
            scanner.bind(ipiPort, this::onIpi);
            normal.unmask(ipiPort);
            U32.setRelease(control, IPI_PORTS + 4L * id, ipiPort);
            if (config.fifo()) {
                bindFifoPorts();
            }
            if (id == 0 && console != null) {
                scanner.bind(console.port(), p -> console.onEvent(irq));
                normal.unmask(console.port());
            }
        }

        /** FIFO mode: this vCPU's share of the FIFO ports, as IPIs on itself, priorities 0..15 in turn. */
        void bindFifoPorts() {
            int n = config.fifoPorts() / config.vcpus() + (id < config.fifoPorts() % config.vcpus() ? 1 : 0);
            fifoPorts = new int[n];
            fifoBatchOf = new long[n];
            fifoSeq = new int[n];
            Arrays.fill(fifoBatchOf, -1);
            for (int i = 0; i < n; i++) {
                int port = normal.bindIpi();
                normal.setPriority(port, priorityOf(i));
                int index = i;
                scanner.bind(port, p -> onFifoPort(index));
                fifoPorts[i] = port;
            }
            count.fifoPorts.set(n);
        }

        int priorityOf(int index) {
            return index % EvtchnFifo.MAX_QUEUES;
        }

        /**
         * FIFO mode, each tick (in the upcall handler, interrupts off): a batch of events on the next
         * FIFO ports in turn, all queued before the handler consumes any of them.
         */
        void sendFifoBatch() {
            long batch = fifoBatches++;
            int slot = (int) (batch % batchLastPriority.length);
            batchLastPriority[slot] = -1;
            batchLastSeq[slot] = -1;
            for (int k = 0; k < GuestConfig.FIFO_BATCH; k++) {
                int i = fifoCursor;
                fifoCursor = (fifoCursor + 1) % fifoPorts.length;
                if (fifoBatchOf[i] >= 0) {
                    count.fifoLost.incrementAndGet(); // its last event was never consumed
                }
                fifoBatchOf[i] = batch;
                fifoSeq[i] = k;
                irq.send(fifoPorts[i]);
                count.fifoSent.incrementAndGet();
            }
        }

        /** An event on FIFO port {@code index}: once, and after every event of its batch that should go first. */
        void onFifoPort(int index) {
            long batch = fifoBatchOf[index];
            if (batch < 0) {
                count.fifoDuplicates.incrementAndGet();
                return;
            }
            fifoBatchOf[index] = -1;
            count.fifoHandled.incrementAndGet();
            if (fifoBatches - batch > batchLastPriority.length) {
                return; // too old to check its order (it would have been counted lost first)
            }
            int slot = (int) (batch % batchLastPriority.length);
            int priority = priorityOf(index);
            if (priority < batchLastPriority[slot]
                    || (priority == batchLastPriority[slot] && fifoSeq[index] < batchLastSeq[slot])) {
                count.fifoOutOfOrder.incrementAndGet();
            }
            batchLastPriority[slot] = priority;
            batchLastSeq[slot] = fifoSeq[index];
        }

        void startTicking() {
            period = config.periodNanos();
            long now = clock.now();
            end = now + config.runFor().toNanos();
            deadline = now + period;
            ticking = true;
            normal.setSingleshotTimer(deadline);
        }

        /** The timer VIRQ: a tick; re-arms the next one, and now and then sends an IPI. */
        void onTimer(int port) {
            if (!ticking) {
                return; // a stale event after the last tick
            }
            long ticks = count.ticks.incrementAndGet();
            if (config.ipis() && ticks % config.ipiEveryTicks() == 0) {
                sendIpi();
            }
            if (config.fifo()) {
                sendFifoBatch();
            }
            if (id == 0 && console != null) {
                console.tick(irq);
            }
            long next = deadline + period;
            if (next - end > 0) {
                ticking = false;
                return;
            }
            deadline = next;
            irq.setSingleshotTimer(next);
        }

        /** Queues a message for the next vCPU and kicks it with EVTCHNOP_send on its IPI port. */
        void sendIpi() {
            int target = (id + 1) % config.vcpus();
            int port = (int) U32.getAcquire(control, IPI_PORTS + 4L * target);
            if (port == 0) {
                return; // the target has not bound its IPI port yet
            }
            U64.getAndAdd(control, IPI_MAILBOX + 8L * target, 1L);
            irq.send(port);
            count.ipisSent.incrementAndGet();
        }

        void onIpi(int port) {
            count.ipiEvents.incrementAndGet();
            drainMailbox();
        }

        void drainMailbox() {
            long messages = (long) U64.getAndSet(control, IPI_MAILBOX + 8L * id, 0L);
            count.ipisReceived.addAndGet(messages);
        }

        private MemorySegment sharedInfo() {
            return ram.asSlice(GuestMemoryMap.sharedInfoAddress(), GuestMemoryMap.PAGE);
        }
    }
}
