package kvm.provider.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import kvm.provider.NativeCallException;

/**
 * A vCPU file descriptor and its mmap'd kvm_run (rust-vmm's {@code VcpuFd}). All its calls belong
 * on one dedicated platform thread; the exit accessors read the kvm_run left by the last
 * {@link #run()}.
 */
public final class KvmVcpu implements AutoCloseable {
    static final long KVM_RUN = 0xae80L;
    static final long KVM_GET_REGS = 0x8090ae81L;
    static final long KVM_SET_REGS = 0x4090ae82L;
    static final long KVM_GET_SREGS = 0x8138ae83L;
    static final long KVM_SET_SREGS = 0x4138ae84L;
    static final long KVM_SET_CPUID2 = 0x4008ae90L;
    static final long KVM_INTERRUPT = 0x4004ae86L;
    static final long KVM_SET_SIGNAL_MASK = 0x4004ae8bL;
    static final long KVM_GET_MSRS = 0xc008ae88L;
    static final long KVM_GET_TSC_KHZ = 0xaea3L;
    static final long KVM_SET_GUEST_DEBUG = 0x4048ae9bL;
    /** struct kvm_guest_debug: control u32, pad u32, debugreg[8] u64. */
    static final long GUEST_DEBUG_SIZE = 72;
    static final int GUESTDBG_ENABLE = 0x1;
    static final int GUESTDBG_USE_HW_BP = 0x20000;

    // kvm_run offsets
    static final long RUN_REQUEST_INTERRUPT_WINDOW = 0;
    static final long RUN_EXIT_REASON = 8;
    static final long RUN_READY_FOR_INTERRUPT_INJECTION = 12;
    static final long RUN_IF_FLAG = 13;
    /** The exit's union: io, mmio, msr, internal error, entry failure. */
    static final long RUN_EXIT_DATA = 32;
    static final long EXIT_DATA_SIZE = 256;
    static final long RUN_IO_DIRECTION = 32;
    static final long RUN_IO_SIZE = 33;
    static final long RUN_IO_PORT = 34;
    static final long RUN_IO_COUNT = 36;
    static final long RUN_IO_DATA_OFFSET = 40;
    static final long RUN_MSR_ERROR = 32;
    static final long RUN_MSR_REASON = 40;
    static final long RUN_MSR_INDEX = 44;
    static final long RUN_MSR_DATA = 48;
    /** kvm_run.debug.arch (struct kvm_debug_exit_arch): exception u32, pad, pc u64, dr6 u64, dr7 u64. */
    static final long RUN_DEBUG_EXCEPTION = 32;
    static final long RUN_DEBUG_PC = 40;
    static final long RUN_VALID_REGS = 288;
    static final long RUN_DIRTY_REGS = 296;
    static final long RUN_SYNC_REGS = 304;
    static final long RUN_SYNC_SREGS = 448;

    /** kvm_run.kvm_valid_regs / kvm_dirty_regs bits (KVM_SYNC_X86_*). */
    public static final long SYNC_X86_REGS = 1;
    public static final long SYNC_X86_SREGS = 2;

    private final int id;
    private final int fd;
    private final MemorySegment run;
    /** KVM_INTERRUPT's argument, reused: an upcall injects without allocating. */
    private final MemorySegment interruptArg = Arena.ofAuto().allocate(4, 4);
    private boolean closed;

    KvmVcpu(int id, int fd, MemorySegment run) {
        this.id = id;
        this.fd = fd;
        this.run = run;
    }

    /** The vCPU id it was created with. */
    public int id() {
        return id;
    }

    /**
     * KVM_RUN until the next exit to user space; returns the exit reason. A signal that interrupts
     * it (EINTR) is not an error: the reason is then {@link KvmExit#INTR}. Nor is EAGAIN, with which
     * KVM returns when a vCPU that waited for INIT/SIPI (an AP under the in-kernel irqchip) has
     * received them: the reason is then INTR too, and the caller runs it again.
     */
    public int run() {
        int r = Libc.ioctlRaw(fd(), KVM_RUN, 0L);
        if (r < 0) {
            int errno = Libc.errno();
            if (errno == Libc.EINTR || errno == Libc.EAGAIN) {
                return KvmExit.INTR;
            }
            throw new NativeCallException("KVM_RUN", errno);
        }
        return exitReason();
    }

    /** kvm_run.exit_reason. */
    public int exitReason() {
        return run.get(ValueLayout.JAVA_INT, RUN_EXIT_REASON);
    }

    /** kvm_run.io, meaningful after a {@link KvmExit#IO} exit. */
    public KvmIoExit ioExit() {
        return new KvmIoExit(Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, RUN_IO_DIRECTION)),
                Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, RUN_IO_SIZE)),
                Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT_UNALIGNED, RUN_IO_PORT)),
                run.get(ValueLayout.JAVA_INT, RUN_IO_COUNT), run.get(ValueLayout.JAVA_LONG, RUN_IO_DATA_OFFSET));
    }

    /** The data of an IO exit, inside kvm_run (size × count bytes): read for out, write for in. */
    public MemorySegment ioData() {
        KvmIoExit io = ioExit();
        return run.asSlice(io.dataOffset(), (long) io.size() * io.count());
    }

    /** kvm_run.msr, meaningful after a {@link KvmExit#X86_RDMSR} or {@link KvmExit#X86_WRMSR} exit. */
    public KvmMsrExit msrExit() {
        return new KvmMsrExit(run.get(ValueLayout.JAVA_INT, RUN_MSR_REASON), run.get(ValueLayout.JAVA_INT, RUN_MSR_INDEX),
                run.get(ValueLayout.JAVA_LONG, RUN_MSR_DATA));
    }

    /**
     * Completes an MSR exit on the next {@link #run()}: {@code ok} lets the access succeed (a
     * rdmsr then reads what {@link #completeRdmsr} set, else the guest gets #GP.
     */
    public void completeMsr(boolean ok) {
        run.set(ValueLayout.JAVA_BYTE, RUN_MSR_ERROR, (byte) (ok ? 0 : 1));
    }

    /** Completes a {@link KvmExit#X86_RDMSR} exit successfully: the guest reads {@code value}. */
    public void completeRdmsr(long value) {
        run.set(ValueLayout.JAVA_LONG, RUN_MSR_DATA, value);
        completeMsr(true);
    }

    /**
     * KVM_CAP_SYNC_REGS: sets kvm_run.kvm_valid_regs to {@code SYNC_X86_REGS | SYNC_X86_SREGS}, so
     * that every following {@link #run()} leaves the registers and special registers in kvm_run
     * ({@link #syncedRegs()}, {@link #syncedSregs()}) with no KVM_GET_REGS / KVM_GET_SREGS ioctl.
     * The caller checks {@link KvmSystem#CAP_SYNC_REGS} first (KVM_RUN fails with EINVAL for bits
     * it does not support). The setting stays until {@link #disableSyncRegs()}.
     */
    public void enableSyncRegs() {
        run.set(ValueLayout.JAVA_LONG, RUN_VALID_REGS, SYNC_X86_REGS | SYNC_X86_SREGS);
    }

    /** Clears kvm_run.kvm_valid_regs and kvm_dirty_regs. */
    public void disableSyncRegs() {
        run.set(ValueLayout.JAVA_LONG, RUN_VALID_REGS, 0L);
        run.set(ValueLayout.JAVA_LONG, RUN_DIRTY_REGS, 0L);
    }

    /** Whether {@link #enableSyncRegs()} is in effect (both regs and sregs are synced at exits). */
    public boolean syncRegsEnabled() {
        long valid = run.get(ValueLayout.JAVA_LONG, RUN_VALID_REGS);
        return (valid & (SYNC_X86_REGS | SYNC_X86_SREGS)) == (SYNC_X86_REGS | SYNC_X86_SREGS);
    }

    /**
     * kvm_run.s.regs (a kvm_regs image, 144 bytes), live: valid after a {@link #run()} with sync
     * regs enabled; the hot path reads it directly.
     */
    public MemorySegment syncedRegsSegment() {
        return run.asSlice(RUN_SYNC_REGS, KvmRegs.SIZE);
    }

    /** kvm_run.s.sregs (a kvm_sregs image, 312 bytes), live, as {@link #syncedRegsSegment()}. */
    public MemorySegment syncedSregsSegment() {
        return run.asSlice(RUN_SYNC_SREGS, KvmSregs.SIZE);
    }

    /** kvm_run.s.regs as a record (a copy). */
    public KvmRegs syncedRegs() {
        return KvmRegs.read(syncedRegsSegment());
    }

    /** kvm_run.s.sregs as a record (a copy). */
    public KvmSregs syncedSregs() {
        return KvmSregs.read(syncedSregsSegment());
    }

    /**
     * Sets rax in kvm_run.s.regs and marks the registers dirty (kvm_dirty_regs |= SYNC_X86_REGS):
     * the next {@link #run()} loads all of s.regs into the vCPU (KVM clears the bit), so no
     * KVM_SET_REGS is needed. Only valid right after an exit with sync regs enabled, with no
     * KVM_SET_REGS in between (s.regs would then overwrite what that set).
     */
    public void setSyncedRax(long value) {
        run.set(ValueLayout.JAVA_LONG, RUN_SYNC_REGS, value);
        run.set(ValueLayout.JAVA_LONG, RUN_DIRTY_REGS, run.get(ValueLayout.JAVA_LONG, RUN_DIRTY_REGS) | SYNC_X86_REGS);
    }

    /**
     * Moves the guest on after an instruction the host carried out for it: rax set to
     * {@code value} and rip advanced by {@code length}, in kvm_run.s.regs marked dirty (as
     * {@link #setSyncedRax}).
     */
    public void completeSynced(long value, int length) {
        MemorySegment regs = syncedRegsSegment();
        regs.set(ValueLayout.JAVA_LONG, KvmRegs.RIP, regs.get(ValueLayout.JAVA_LONG, KvmRegs.RIP) + length);
        setSyncedRax(value);
    }

    /** kvm_run.debug.arch.pc after a {@link KvmExit#DEBUG} exit: where the guest stopped. */
    public long debugPc() {
        return run.get(ValueLayout.JAVA_LONG, RUN_DEBUG_PC);
    }

    /** kvm_run.debug.arch.exception after a {@link KvmExit#DEBUG} exit: 1 (#DB) for a hardware breakpoint. */
    public int debugException() {
        return run.get(ValueLayout.JAVA_INT, RUN_DEBUG_EXCEPTION);
    }

    /**
     * KVM_SET_GUEST_DEBUG with hardware execute breakpoints at the guest-virtual {@code addresses}
     * (at most 4: DR0-DR3, enabled locally in DR7 as execute breakpoints of length 1): the vCPU
     * exits with {@link KvmExit#DEBUG} before it executes one of them. Empty: guest debugging off.
     * Set it before the vCPU's first {@link #run()}; it survives INIT/SIPI. While it is on, the
     * guest's own debug registers do not work (KVM uses them for this).
     */
    public void setHardwareBreakpoints(long... addresses) {
        if (addresses.length > 4) {
            throw new IllegalArgumentException("at most 4 hardware breakpoints (DR0-DR3): got " + addresses.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment debug = arena.allocate(GUEST_DEBUG_SIZE, 8);
            long dr7 = 0;
            for (int i = 0; i < addresses.length; i++) {
                debug.set(ValueLayout.JAVA_LONG, 8 + 8L * i, addresses[i]);
                dr7 |= 1L << (2 * i); // Li; R/Wi = 00 (execute) and LENi = 00 (one byte)
            }
            debug.set(ValueLayout.JAVA_LONG, 8 + 8L * 7, dr7);
            debug.set(ValueLayout.JAVA_INT, 0, addresses.length == 0 ? 0 : GUESTDBG_ENABLE | GUESTDBG_USE_HW_BP);
            Libc.ioctl("KVM_SET_GUEST_DEBUG", fd(), KVM_SET_GUEST_DEBUG, debug);
        }
    }

    /** The whole mapped kvm_run (and what follows it), valid until {@link #close()}. */
    public MemorySegment kvmRun() {
        return run;
    }

    /** kvm_run.if_flag after the last exit: the guest's IF (interrupts enabled). */
    public boolean interruptsEnabled() {
        return run.get(ValueLayout.JAVA_BYTE, RUN_IF_FLAG) != 0;
    }

    /**
     * kvm_run.ready_for_interrupt_injection after the last exit: {@link #interrupt} would be taken
     * at once (IF set, no interrupt shadow, nothing else being injected).
     */
    public boolean readyForInterrupt() {
        return run.get(ValueLayout.JAVA_BYTE, RUN_READY_FOR_INTERRUPT_INJECTION) != 0;
    }

    /**
     * kvm_run.request_interrupt_window: with it set, KVM_RUN exits with
     * {@link KvmExit#IRQ_WINDOW_OPEN} as soon as the guest can take an interrupt.
     */
    public void requestInterruptWindow(boolean request) {
        run.set(ValueLayout.JAVA_BYTE, RUN_REQUEST_INTERRUPT_WINDOW, (byte) (request ? 1 : 0));
    }

    /** The last exit's data: kvm_run's union at offset 32 (io, mmio, msr, internal, fail_entry...). */
    public MemorySegment exitData() {
        return run.asSlice(RUN_EXIT_DATA, EXIT_DATA_SIZE);
    }

    /**
     * KVM_INTERRUPT: queues external interrupt {@code vector} (no in-kernel irqchip), taken at the
     * next entry; only when {@link #readyForInterrupt()} (else it may be lost or refused).
     */
    public void interrupt(int vector) {
        interruptArg.set(ValueLayout.JAVA_INT, 0, vector); // struct kvm_interrupt { u32 irq; }
        Libc.ioctl("KVM_INTERRUPT", fd(), KVM_INTERRUPT, interruptArg);
    }

    /**
     * KVM_SET_SIGNAL_MASK with an empty mask: inside KVM_RUN no signal is blocked, so a signal the
     * thread blocks elsewhere interrupts KVM_RUN (EINTR) instead of waiting for the next exit.
     */
    public void unblockAllSignalsInRun() {
        try (Arena arena = Arena.ofConfined()) {
            // struct kvm_signal_mask { u32 len; u8 sigset[len]; }: the kernel's 8-byte sigset.
            MemorySegment mask = arena.allocate(4 + Libc.KERNEL_SIGSET_SIZE, 8);
            mask.set(ValueLayout.JAVA_INT, 0, (int) Libc.KERNEL_SIGSET_SIZE);
            Libc.ioctl("KVM_SET_SIGNAL_MASK", fd(), KVM_SET_SIGNAL_MASK, mask);
        }
    }

    /** KVM_GET_MSRS of one MSR, e.g. 0x10 (IA32_TSC). */
    public long getMsr(int index) {
        try (Arena arena = Arena.ofConfined()) {
            // struct kvm_msrs { u32 nmsrs; u32 pad; struct kvm_msr_entry { u32 index; u32 reserved; u64 data; } }
            MemorySegment msrs = arena.allocate(8 + 16, 8);
            msrs.set(ValueLayout.JAVA_INT, 0, 1);
            msrs.set(ValueLayout.JAVA_INT, 8, index);
            int n = Libc.ioctl("KVM_GET_MSRS", fd(), KVM_GET_MSRS, msrs);
            if (n != 1) {
                throw new IllegalStateException("KVM_GET_MSRS read no MSR 0x" + Integer.toHexString(index));
            }
            return msrs.get(ValueLayout.JAVA_LONG, 16);
        }
    }

    /** KVM_GET_TSC_KHZ: the guest's TSC frequency in kHz. */
    public long tscKhz() {
        return Libc.ioctl("KVM_GET_TSC_KHZ", fd(), KVM_GET_TSC_KHZ, 0L);
    }

    /** KVM_GET_REGS. */
    public KvmRegs getRegs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(KvmRegs.SIZE, 8);
            Libc.ioctl("KVM_GET_REGS", fd(), KVM_GET_REGS, regs);
            return KvmRegs.read(regs);
        }
    }

    /** KVM_SET_REGS. */
    public void setRegs(KvmRegs value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(KvmRegs.SIZE, 8);
            value.write(regs);
            Libc.ioctl("KVM_SET_REGS", fd(), KVM_SET_REGS, regs);
        }
    }

    /** KVM_GET_SREGS. */
    public KvmSregs getSregs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(KvmSregs.SIZE, 8);
            Libc.ioctl("KVM_GET_SREGS", fd(), KVM_GET_SREGS, sregs);
            return KvmSregs.read(sregs);
        }
    }

    /** KVM_SET_SREGS. */
    public void setSregs(KvmSregs value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(KvmSregs.SIZE, 8);
            value.write(sregs);
            Libc.ioctl("KVM_SET_SREGS", fd(), KVM_SET_SREGS, sregs);
        }
    }

    /** KVM_SET_CPUID2: what the guest's cpuid returns (before the first {@link #run()}). */
    public void setCpuid2(List<KvmCpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpuid2 = arena.allocate(KvmCpuidEntry.cpuid2Size(entries.size()), 8);
            KvmCpuidEntry.writeAll(cpuid2, entries);
            Libc.ioctl("KVM_SET_CPUID2", fd(), KVM_SET_CPUID2, cpuid2);
        }
    }

    private int fd() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        return fd;
    }

    /** Unmaps kvm_run and closes the vCPU fd. Idempotent; not while {@link #run()} is in progress. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.munmap(run);
            Libc.close(fd);
        }
    }
}
