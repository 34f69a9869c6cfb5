package kvm.provider.xen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import kvm.provider.boot.AcpiTables;
import kvm.provider.boot.GuestSpeed;
import kvm.provider.boot.HvmStartInfo;
import kvm.provider.boot.PvhEntry;
import kvm.provider.boot.PvhImage;
import kvm.provider.kvm.KvmCap;
import kvm.provider.kvm.KvmCpuidEntry;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.kvm.KvmVm;
import kvm.provider.os.Libc;
import kvm.provider.os.SharedArenas;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.SchedOp;

/**
 * A domain on real vCPUs of /dev/kvm: guest RAM mmap'd at guest-physical 0, the Xen CPUID leaves,
 * the hypercall-page MSR trap, one platform thread per vCPU running its {@link VcpuRunner exit
 * loop}, upcalls injected as interrupts. Hypercalls are always trapped to user space (the only way
 * on a KVM without in-kernel Xen); the log says which KVM this is.
 *
 * <p>A guest fault (triple fault, failed entry, internal error) ends the domain with a message
 * naming the vCPU, the fault and rip ({@link #failure()}); only this domain's vCPUs stop.
 */
public final class KvmBackend implements VcpuBackend, AutoCloseable {
    /** Where {@link #loadPvh} puts hvm_start_info, its memory map and the command line. */
    static final long START_INFO = 0x7000;
    /** Low RAM ends at the legacy VGA hole; a PVH image loads from 1 MiB up. */
    static final long LOW_RAM_END = 0xa0000;
    static final long HIGH_RAM = 0x100000;
    /** Three pages KVM needs for the real-mode TSS on Intel, above RAM (as QEMU puts it). */
    static final long TSS_ADDR = 0xfffbd000L;
    /**
     * Frames right above the guest's RAM, set aside for the toolstack's pages (the console ring, ...):
     * memory-backed, e820-reserved, so the guest never allocates them.
     */
    public static final int SPECIAL_FRAMES = 16;
    /** The ACPI tables go into the ISA hole [0xe0000, 0xf0000), which a PVH Linux reserves by itself. */
    static final long ACPI_BASE = 0xe0000;
    static final long ACPI_LIMIT = 0xf0000;
    /** The local APIC and I/O APIC window: with the in-kernel irqchip guest memory must end below it. */
    static final long APIC_WINDOW = 0xfec00000L;
    static final long PAGE = GuestMemory.PAGE_SIZE;
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    /** The physical address width where KVM offers no CPUID leaf 0x80000008 (the SDM's assumption then). */
    static final int DEFAULT_PHYS_BITS = 36;

    private final int domid;
    private final KvmConfig config;
    private final HypercallHandler hypercalls;
    private final KvmSystem kvm;
    private final KvmVm vm;
    private final Arena ramArena = Arena.ofShared();
    private final MemorySegment ram;
    private final KvmGuestMemory memory;
    private final KvmVcpu[] vcpus;
    private final VcpuRunner[] runners;
    private final boolean syncRegs;
    private final String path;
    private final long tscHz;
    private final long tscBase;
    private final long nanoBase;
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final AtomicLong droppedUpcalls = new AtomicLong();
    /** Per vCPU: 1 + the vector of an upcall its local APIC refused, 0 if none is owed. */
    private final AtomicIntegerArray owed;
    /** Retries owed upcalls (one daemon thread, made with the backend). */
    private final ScheduledExecutorService retries;
    static final long OWED_RETRY_MS = 10;
    private final AtomicInteger up = new AtomicInteger();
    private final SpecialFrames special;
    /** Where the loaded image calls Xen with VMCALL/VMMCALL; set before the vCPUs start. */
    private volatile HypercallSites hypercallSites = new HypercallSites(List.of());
    /** Who hears of the guest's ACPI poweroff and reset (SchedOp.SHUTDOWN_* reasons); set before start. */
    private volatile IntConsumer powerRequests;
    private volatile CountDownLatch ended = new CountDownLatch(0);
    private volatile boolean levelReported;
    private boolean started;
    private volatile boolean closed;

    /**
     * Opens /dev/kvm and builds the VM; nothing runs until {@link #start()}.
     *
     * @throws kvm.provider.os.NativeCallException if /dev/kvm or an ioctl fails (named in the message)
     * @throws UnsupportedOperationException    if this KVM lacks what trapping hypercalls needs
     */
    public KvmBackend(int domid, KvmConfig config, HypercallHandler hypercalls) {
        if (!DomId.isReal(domid) || domid == DomId.HOST) {
            throw new IllegalArgumentException("a guest domid must be 1.." + (DomId.FIRST_RESERVED - 1) + ": got " + domid);
        }
        this.domid = domid;
        this.config = Objects.requireNonNull(config, "config");
        this.hypercalls = Objects.requireNonNull(hypercalls, "hypercalls");
        this.kvm = KvmSystem.open();
        KvmVm createdVm = null;
        KvmVcpu[] created = new KvmVcpu[config.vcpus()];
        int physBits = DEFAULT_PHYS_BITS;
        int memSlots;
        try {
            requireCapabilities(config);
            int xenHvm = kvm.checkExtension(KvmCap.XEN_HVM);
            path = xenHvm == 0
                    ? "hypercalls trapped to user space (this KVM has no in-kernel Xen: KVM_CAP_XEN_HVM = 0)"
                    : "hypercalls trapped to user space (in-kernel Xen offered, KVM_CAP_XEN_HVM = 0x"
                            + Integer.toHexString(xenHvm) + ", not used: event channels live in this host)";
            syncRegs = (kvm.checkExtension(KvmCap.SYNC_REGS) & 3) == 3;
            memSlots = kvm.checkExtension(KvmCap.NR_MEMSLOTS);
            for (KvmCpuidEntry e : kvm.supportedCpuid()) {
                if (e.function() == 0x80000008 && (e.eax() & 0xff) != 0) {
                    physBits = e.eax() & 0xff;
                }
            }
            createdVm = kvm.createVm();
            createdVm.setTssAddr(TSS_ADDR);
            long size = config.ramBytes() + SPECIAL_FRAMES * PAGE;
            if (config.irqchip() && size > APIC_WINDOW) {
                throw new IllegalArgumentException((config.ramBytes() >> 20) + " MiB of RAM reach the local APIC window at 0x"
                        + Long.toHexString(APIC_WINDOW) + ": with the in-kernel irqchip at most "
                        + ((APIC_WINDOW - SPECIAL_FRAMES * PAGE) >> 20) + " MiB");
            }
            ram = Libc.mmapAnonymous("guest RAM", size).reinterpret(size, ramArena, s -> Libc.munmap(s.reinterpret(size)));
            createdVm.setUserMemoryRegion(0, 0, ram);
            HypercallPage.trapMsr(createdVm);
            if (config.irqchip()) {
                createdVm.createIrqchip();
            }
            for (int i = 0; i < created.length; i++) {
                created[i] = createdVm.createVcpu(i);
                created[i].setCpuid2(XenCpuid.entries(kvm.supportedCpuid(), i, created.length, domid, config.irqchip()));
            }
            tscHz = created[0].tscKhz() * 1000;
            long before = System.nanoTime();
            tscBase = created[0].getMsr(0x10); // IA32_TSC
            nanoBase = before + (System.nanoTime() - before) / 2;
        } catch (RuntimeException | Error e) {
            for (KvmVcpu v : created) {
                if (v != null) {
                    v.close();
                }
            }
            if (createdVm != null) {
                createdVm.close();
            }
            ramArena.close();
            kvm.close();
            throw e;
        }
        vm = createdVm;
        vcpus = created;
        memory = new KvmGuestMemory(ram, vm, memSlots, physBits);
        special = new SpecialFrames(config.ramBytes() / PAGE, SPECIAL_FRAMES);
        owed = new AtomicIntegerArray(vcpus.length);
        retries = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("dom" + domid + "-upcall-retry")
                .daemon(true).unstarted(r));
        runners = new VcpuRunner[vcpus.length];
        for (int i = 0; i < vcpus.length; i++) {
            runners[i] = new VcpuRunner(this, vcpus[i]);
        }
        log("dom" + domid + ": KVM, " + vcpus.length + " vCPU(s), " + (config.ramBytes() >> 20) + " MiB, "
                + (config.irqchip() ? "in-kernel irqchip, " : "") + path);
    }

    private void requireCapabilities(KvmConfig config) {
        if (kvm.checkExtension(KvmCap.X86_USER_SPACE_MSR) == 0 || kvm.checkExtension(KvmCap.X86_MSR_FILTER) == 0) {
            throw new UnsupportedOperationException("this KVM cannot trap the hypercall-page MSR to user space"
                    + " (needs KVM_CAP_X86_USER_SPACE_MSR and KVM_CAP_X86_MSR_FILTER, Linux 5.10+)");
        }
        int max = Math.max(kvm.checkExtension(KvmCap.MAX_VCPUS), kvm.checkExtension(KvmCap.NR_VCPUS));
        if (max > 0 && config.vcpus() > max) {
            throw new IllegalArgumentException(config.vcpus() + " vCPUs requested, this KVM allows " + max);
        }
    }

    /** How this backend's hypercalls reach the host (for the host's log). */
    public String path() {
        return path;
    }

    public int domid() {
        return domid;
    }

    public KvmConfig config() {
        return config;
    }

    @Override
    public int vcpuCount() {
        return vcpus.length;
    }

    /** RAM and the special frames in slot 0; extra pages (grant frames in holes) each in a slot of its own. */
    @Override
    public GuestMemory memory() {
        return memory;
    }

    /** How many extra pages the guest's memory has now. */
    int extraPages() {
        return memory.extraPages();
    }

    @Override
    public SpecialFrames specialFrames() {
        return special;
    }

    /** Where the loaded image calls Xen with VMCALL/VMMCALL (empty before {@link #loadPvh} or if it does not). */
    HypercallSites hypercallSites() {
        return hypercallSites;
    }

    /**
     * Who hears of the guest's ACPI poweroff (SchedOp.SHUTDOWN_POWEROFF) and reset
     * (SHUTDOWN_REBOOT), on the vCPU thread that asked; without one the domain just stops. Before
     * {@link #start()}.
     */
    public void onPowerRequest(IntConsumer listener) {
        powerRequests = listener;
    }

    /** The guest wrote the FADT's sleep (S5) or reset register. */
    void powerRequest(int vcpu, AcpiTables.PowerRequest request) {
        int reason = request == AcpiTables.PowerRequest.RESET ? SchedOp.SHUTDOWN_REBOOT : SchedOp.SHUTDOWN_POWEROFF;
        log("dom" + domid + " vcpu" + vcpu + ": ACPI " + (request == AcpiTables.PowerRequest.RESET ? "reset" : "poweroff (S5)"));
        IntConsumer listener = powerRequests;
        if (listener != null) {
            listener.accept(reason);
        }
        requestStop();
    }

    MemorySegment ram() {
        return ram;
    }

    HypercallHandler hypercalls() {
        return hypercalls;
    }

    boolean syncRegs() {
        return syncRegs;
    }

    @Override
    public long tscHz() {
        return tscHz;
    }

    /** The guest's TSC now: read once from vCPU 0 at creation, advanced by the host's monotonic clock since. */
    @Override
    public long tsc() {
        long ns = System.nanoTime() - nanoBase;
        return tscBase + ns / 1_000_000_000L * tscHz + ns % 1_000_000_000L * tscHz / 1_000_000_000L;
    }

    /** {@link #loadPvh(PvhImage, String, byte[])} without an initrd. */
    public void loadPvh(PvhImage image, String cmdline) {
        loadPvh(image, cmdline, null);
    }

    /**
     * Loads an unmodified PVH image as Xen's toolstack does: its segments at their physical
     * addresses (from 1 MiB up); {@code initrd} (null: none) page-aligned at the top of RAM, the
     * first module of hvm_start_info, where Linux takes its initramfs; the ACPI tables
     * ({@link AcpiTables}, a local APIC per vCPU) in the ISA hole; hvm_start_info with the memory map
     * (RAM below 640 KiB and from 1 MiB, the special frames reserved), the RSDP and {@code cmdline}
     * at {@link #START_INFO}; vCPU 0 in the PVH entry state. A guest that calls Xen with
     * VMCALL/VMMCALL ({@link HypercallSites}) gets a hardware breakpoint on each on every vCPU.
     * Before {@link #start()}.
     *
     * @throws IllegalArgumentException if the image or initrd does not fit (the message says where),
     *                                  or if the image has no way to call Xen that this host can trap
     */
    public synchronized void loadPvh(PvhImage image, String cmdline, byte[] initrd) {
        if (started) {
            throw new IllegalStateException("dom" + domid + " is already started");
        }
        if (image.lowest() < HIGH_RAM) {
            throw new IllegalArgumentException("the image loads at 0x" + Long.toHexString(image.lowest())
                    + ", below 1 MiB where the host keeps hvm_start_info");
        }
        HypercallSites sites = HypercallSites.find(image);
        if (sites.isEmpty() && !image.hypercallPageNote()) {
            throw new IllegalArgumentException("the image calls Xen neither with VMCALL/VMMCALL (no function of its own"
                    + " made of one, as Linux's xen_hypercall_intel/amd) nor through a hypercall page (no"
                    + " XEN_ELFNOTE_HYPERCALL_PAGE note): its hypercalls could not reach this host");
        }
        long ramBytes = config.ramBytes();
        image.load(ram.asSlice(0, ramBytes));
        List<HvmStartInfo.Module> modules = List.of();
        if (initrd != null) {
            long at = (ramBytes - initrd.length) & -PAGE;
            long kernelEnd = (image.end() + PAGE - 1) & -PAGE;
            if (initrd.length == 0 || at < kernelEnd || at + initrd.length > HvmStartInfo.FOUR_GIB) {
                throw new IllegalArgumentException("the initrd of " + initrd.length + " bytes does not fit in RAM above the"
                        + " kernel (which ends at 0x" + Long.toHexString(kernelEnd) + ") and below 4 GiB: "
                        + (ramBytes >> 20) + " MiB of RAM are too few");
            }
            MemorySegment.copy(MemorySegment.ofArray(initrd), 0, ram, at, initrd.length);
            modules = List.of(new HvmStartInfo.Module(at, initrd.length));
        }
        long rsdp = AcpiTables.write(ram, ACPI_BASE, ACPI_LIMIT, vcpus.length);
        List<HvmStartInfo.MemmapEntry> map = List.of(
                new HvmStartInfo.MemmapEntry(0, LOW_RAM_END, HvmStartInfo.MemmapEntry.RAM),
                new HvmStartInfo.MemmapEntry(HIGH_RAM, ramBytes - HIGH_RAM, HvmStartInfo.MemmapEntry.RAM),
                new HvmStartInfo.MemmapEntry(ramBytes, SPECIAL_FRAMES * PAGE, HvmStartInfo.MemmapEntry.RESERVED));
        HvmStartInfo.write(ram, START_INFO, cmdline, map, rsdp, modules);
        PvhEntry.enter(vcpus[0], image.entry(), START_INFO);
        long[] breakpoints = sites.sites().stream().mapToLong(HypercallSites.Site::vaddr).toArray();
        if (breakpoints.length > 0) {
            for (KvmVcpu v : vcpus) {
                v.setHardwareBreakpoints(breakpoints);
            }
        }
        hypercallSites = sites;
        log("dom" + domid + ": " + (sites.isEmpty() ? "hypercalls through the hypercall page"
                : "hypercalls by VMCALL/VMMCALL under hardware breakpoints at " + sites
                        + (image.hypercallPageNote() ? ", and through the hypercall page" : ""))
                + (initrd == null ? "" : "; initrd of " + initrd.length + " bytes at 0x" + Long.toHexString(modules.get(0).paddr())));
        String slow = sites.isEmpty() ? null : GuestSpeed.emulationReason();
        if (slow != null) {
            log("dom" + domid + ": warning: " + slow);
        }
    }

    /**
     * Starts the vCPU threads: vCPU 0 at the state set up by {@link #loadPvh} (or by the caller);
     * with the irqchip the others too (they wait in KVM for INIT/SIPI). Once only.
     */
    public synchronized void start() {
        if (closed || started) {
            throw new IllegalStateException("dom" + domid + (closed ? " is closed" : " is already started"));
        }
        started = true;
        int count = config.irqchip() ? runners.length : 1;
        up.set(count);
        ended = new CountDownLatch(count);
        for (int i = 0; i < count; i++) {
            runners[i].start("dom" + domid + "-vcpu" + i);
        }
    }

    /** The vCPU's KVM handle, for setting up registers before {@link #start()}. */
    public KvmVcpu vcpu(int n) {
        if (!vcpuExists(n)) {
            throw new IllegalArgumentException("no vCPU " + n + ": dom" + domid + " has " + vcpus.length);
        }
        return vcpus[n];
    }

    @Override
    public void deliverUpcall(int vcpu, UpcallRoute route) {
        if (!vcpuExists(vcpu)) {
            droppedUpcalls.incrementAndGet();
            return;
        }
        int vector;
        switch (route) {
            case UpcallRoute.Vector v -> vector = v.vector();
            case UpcallRoute.LapicVector v -> vector = v.vector();
            case UpcallRoute.None n -> {
                return; // no callback: a blocked or polling vCPU is woken by the event code itself
            }
            case UpcallRoute.Gsi g -> {
                levelUnsupported(route);
                return;
            }
            case UpcallRoute.PciIntx p -> {
                levelUnsupported(route);
                return;
            }
        }
        if (config.irqchip()) {
            signalOrOwe(vcpu, vector);
        } else {
            runners[vcpu].deliver(vector);
        }
    }

    private void levelUnsupported(UpcallRoute route) {
        droppedUpcalls.incrementAndGet();
        if (!levelReported) {
            levelReported = true;
            log("dom" + domid + ": upcall by " + route + " dropped: GSI and PCI INTx callbacks need an emulated"
                    + " interrupt controller and platform PCI device, which this backend has not; use the callback vector");
        }
    }

    /**
     * The upcall as an MSI; if the vCPU's local APIC refuses it (KVM drops an interrupt for a
     * software-disabled APIC, where Xen's vlapic would hold it in IRR), it is owed: the guest's
     * upcall_pending stays set, so no later event would raise it again. An owed upcall is sent
     * again before the vCPU's next KVM_RUN and every {@link #OWED_RETRY_MS} ms until its APIC takes
     * it (Linux enables it early, and events can come before: the console's, vcpu_info's move).
     */
    private void signalOrOwe(int vcpu, int vector) {
        if (vm.signalMsi(vcpu, vector)) {
            owed.compareAndSet(vcpu, vector + 1, 0);
            return;
        }
        droppedUpcalls.incrementAndGet();
        if (owed.getAndSet(vcpu, vector + 1) == 0) {
            scheduleRetry(vcpu);
        }
    }

    /** A retry of {@code vcpu}'s owed upcall in {@link #OWED_RETRY_MS} ms; none once the backend is closed. */
    private void scheduleRetry(int vcpu) {
        try {
            retries.schedule(() -> retryOwed(vcpu, true), OWED_RETRY_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // closed meanwhile: its vCPUs will not run again, nothing is owed to them
        }
    }

    /** Sends {@code vcpu}'s owed upcall again, if it has one; with {@code again}, reschedules itself while it is owed. */
    void retryOwed(int vcpu, boolean again) {
        int v = owed.get(vcpu);
        if (v == 0 || closed) {
            return;
        }
        if (vm.signalMsi(vcpu, v - 1)) {
            owed.compareAndSet(vcpu, v, 0);
        } else if (again) {
            scheduleRetry(vcpu);
        }
    }

    /** Upcalls that could not be delivered at once: no such vCPU, a GSI/INTx route, an APIC that refused (retried). */
    public long droppedUpcalls() {
        return droppedUpcalls.get();
    }

    /** Waits up to {@code timeout} for every started vCPU to stop; true if they have. */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops every vCPU at its next exit (Xen pauses a domain that shut down). Any thread. */
    public void requestStop() {
        for (VcpuRunner r : runners) {
            r.requestStop();
        }
    }

    /** Why the domain stopped by itself ("dom1 vcpu0: triple fault ... at rip 0x..."), if it failed. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure.get());
    }

    void log(String message) {
        config.log().accept(message);
    }

    /** A vCPU hit a fault the guest cannot survive: the whole domain stops, as Xen crashes it. */
    void crash(int vcpu, String what, Throwable cause) {
        String message = "dom" + domid + " vcpu" + vcpu + ": " + what;
        if (failure.compareAndSet(null, message)) {
            log(message + (cause == null ? "" : " (" + cause + ")"));
        }
        requestStop();
    }

    /** A vCPU went down (HLT with interrupts off); when the last one does, the domain is over. */
    void vcpuDown(int vcpu, String what) {
        log("dom" + domid + " vcpu" + vcpu + ": down, " + what);
        if (up.decrementAndGet() == 0) {
            crash(vcpu, "every vCPU is down (the last " + what + ")", null);
        }
    }

    void vcpuEnded(int vcpu) {
        ended.countDown();
    }

    /**
     * Stops the vCPUs, then closes them, the VM and /dev/kvm and frees guest RAM and the extra pages.
     * Destroy the domain first: RAM is gone afterwards (late accesses throw, they cannot corrupt anything).
     *
     * @throws IllegalStateException if a vCPU thread did not stop within the grace time (RAM is then kept)
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        requestStop();
        boolean stopped;
        try {
            stopped = awaitStop(CLOSE_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            throw new IllegalStateException("dom" + domid + ": a vCPU thread did not stop; its VM is left open");
        }
        retries.shutdownNow();
        for (KvmVcpu v : vcpus) {
            v.close();
        }
        vm.close();
        memory.closed();
        kvm.close();
        SharedArenas.close(ramArena); // waits for a backend's I/O on guest RAM, if one is under way
    }
}
