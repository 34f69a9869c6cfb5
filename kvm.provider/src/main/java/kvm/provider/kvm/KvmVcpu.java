package kvm.provider.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import kvm.provider.os.HostErrno;
import kvm.provider.os.Libc;
import kvm.provider.os.NativeCallException;
import kvm.provider.os.Signals;

/**
 * A vCPU file descriptor and its mmap'd kvm_run (rust-vmm's {@code VcpuFd}). All its calls belong
 * on one dedicated platform thread; {@link #run()} returns the exit, and the completions
 * ({@link #completeMsr}, sync regs) write the kvm_run that the next {@link #run()} reads.
 */
public final class KvmVcpu implements AutoCloseable {
    /** struct kvm_guest_debug: control u32, pad u32, debugreg[8] u64. */
    static final long GUEST_DEBUG_SIZE = 72;
    static final int GUESTDBG_ENABLE = 0x1;
    static final int GUESTDBG_USE_HW_BP = 0x20000;
    /** struct kvm_interrupt { u32 irq; }. */
    static final long INTERRUPT_SIZE = 4;
    /** struct kvm_msrs { u32 nmsrs; u32 pad; } before its entries, struct kvm_msr_entry { u32 index; u32 reserved; u64 data; }. */
    static final long MSRS_HEADER_SIZE = 8;
    static final long MSR_ENTRY_SIZE = 16;
    /** struct kvm_signal_mask { u32 len; } before its sigset. */
    static final long SIGNAL_MASK_HEADER_SIZE = 4;

    /** kvm_run.kvm_valid_regs / kvm_dirty_regs bits (KVM_SYNC_X86_*). */
    public static final long SYNC_X86_REGS = 1;
    public static final long SYNC_X86_SREGS = 2;

    private final int id;
    private final int fd;
    private final MemorySegment run;
    /** KVM_INTERRUPT's argument, reused: an upcall injects without allocating. */
    private final MemorySegment interruptArg = Arena.ofAuto().allocate(INTERRUPT_SIZE, 4);
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
     * KVM_RUN until the next exit to user space; returns the exit. A signal that interrupts it
     * (EINTR) is not an error: the exit is then {@link KvmExit#INTERRUPTED}. Nor is EAGAIN, with
     * which KVM returns when a vCPU that waited for INIT/SIPI (an AP under the in-kernel irqchip)
     * has received them: the exit is then INTERRUPTED too, and the caller runs it again.
     */
    public KvmExit run() {
        int r = Libc.ioctl(fd(), KvmIoctl.KVM_RUN.number(), 0L);
        if (r < 0) {
            int errno = Libc.errno();
            if (errno == HostErrno.EINTR || errno == HostErrno.EAGAIN) {
                return KvmExit.INTERRUPTED;
            }
            throw new NativeCallException(KvmIoctl.KVM_RUN.name(), errno);
        }
        return KvmExit.decode(run);
    }

    /**
     * Completes an MSR exit on the next {@link #run()}: {@code ok} lets the access succeed (a
     * rdmsr then reads what {@link #completeRdmsr} set), else the guest gets #GP.
     */
    public void completeMsr(boolean ok) {
        run.set(ValueLayout.JAVA_BYTE, KvmRun.MSR_ERROR, (byte) (ok ? 0 : 1));
    }

    /** Completes a {@link KvmExit.RdMsr} exit successfully: the guest reads {@code value}. */
    public void completeRdmsr(long value) {
        run.set(ValueLayout.JAVA_LONG, KvmRun.MSR_DATA, value);
        completeMsr(true);
    }

    /**
     * KVM_CAP_SYNC_REGS: sets kvm_run.kvm_valid_regs to {@code SYNC_X86_REGS | SYNC_X86_SREGS}, so
     * that every following {@link #run()} leaves the registers and special registers in kvm_run
     * ({@link #syncedRegs()}, {@link #syncedSregs()}) with no KVM_GET_REGS / KVM_GET_SREGS ioctl.
     * The caller checks {@link KvmCap#SYNC_REGS} first (KVM_RUN fails with EINVAL for bits
     * it does not support). The setting stays until {@link #disableSyncRegs()}.
     */
    public void enableSyncRegs() {
        run.set(ValueLayout.JAVA_LONG, KvmRun.VALID_REGS, SYNC_X86_REGS | SYNC_X86_SREGS);
    }

    /** Clears kvm_run.kvm_valid_regs and kvm_dirty_regs. */
    public void disableSyncRegs() {
        run.set(ValueLayout.JAVA_LONG, KvmRun.VALID_REGS, 0L);
        run.set(ValueLayout.JAVA_LONG, KvmRun.DIRTY_REGS, 0L);
    }

    /** kvm_run.kvm_dirty_regs: the register sets the next {@link #run()} loads from kvm_run (KVM clears them as it does). */
    public long dirtyRegs() {
        return run.get(ValueLayout.JAVA_LONG, KvmRun.DIRTY_REGS);
    }

    /** Whether {@link #enableSyncRegs()} is in effect (both regs and sregs are synced at exits). */
    public boolean syncRegsEnabled() {
        long valid = run.get(ValueLayout.JAVA_LONG, KvmRun.VALID_REGS);
        return (valid & (SYNC_X86_REGS | SYNC_X86_SREGS)) == (SYNC_X86_REGS | SYNC_X86_SREGS);
    }

    /**
     * kvm_run.s.regs (a kvm_regs image, 144 bytes), live: valid after a {@link #run()} with sync
     * regs enabled; the hot path reads it directly.
     */
    public MemorySegment syncedRegsSegment() {
        return run.asSlice(KvmRun.SYNC_REGS, KvmRegs.SIZE);
    }

    /** kvm_run.s.sregs (a kvm_sregs image, 312 bytes), live, as {@link #syncedRegsSegment()}. */
    public MemorySegment syncedSregsSegment() {
        return run.asSlice(KvmRun.SYNC_SREGS, KvmSregs.SIZE);
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
        run.set(ValueLayout.JAVA_LONG, KvmRun.SYNC_REGS + KvmRegs.RAX, value);
        run.set(ValueLayout.JAVA_LONG, KvmRun.DIRTY_REGS, run.get(ValueLayout.JAVA_LONG, KvmRun.DIRTY_REGS) | SYNC_X86_REGS);
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

    /**
     * KVM_SET_GUEST_DEBUG with hardware execute breakpoints at the guest-virtual {@code addresses}
     * (at most 4: DR0-DR3, enabled locally in DR7 as execute breakpoints of length 1): the vCPU
     * exits with {@link KvmExit.Debug} before it executes one of them. Empty: guest debugging off.
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
            KvmIoctl.KVM_SET_GUEST_DEBUG.call(fd(), debug);
        }
    }

    /** kvm_run.if_flag after the last exit: the guest's IF (interrupts enabled). */
    public boolean interruptsEnabled() {
        return run.get(ValueLayout.JAVA_BYTE, KvmRun.IF_FLAG) != 0;
    }

    /**
     * kvm_run.ready_for_interrupt_injection after the last exit: {@link #interrupt} would be taken
     * at once (IF set, no interrupt shadow, nothing else being injected).
     */
    public boolean readyForInterrupt() {
        return run.get(ValueLayout.JAVA_BYTE, KvmRun.READY_FOR_INTERRUPT_INJECTION) != 0;
    }

    /**
     * kvm_run.request_interrupt_window: with it set, KVM_RUN exits with
     * {@link KvmExit.IrqWindowOpen} as soon as the guest can take an interrupt.
     */
    public void requestInterruptWindow(boolean request) {
        run.set(ValueLayout.JAVA_BYTE, KvmRun.REQUEST_INTERRUPT_WINDOW, (byte) (request ? 1 : 0));
    }

    /**
     * KVM_INTERRUPT: queues external interrupt {@code vector} (no in-kernel irqchip), taken at the
     * next entry; only when {@link #readyForInterrupt()} (else it may be lost or refused).
     */
    public void interrupt(int vector) {
        interruptArg.set(ValueLayout.JAVA_INT, 0, vector); // struct kvm_interrupt { u32 irq; }
        KvmIoctl.KVM_INTERRUPT.call(fd(), interruptArg);
    }

    /**
     * KVM_SET_SIGNAL_MASK with an empty mask: inside KVM_RUN no signal is blocked, so a signal the
     * thread blocks elsewhere interrupts KVM_RUN (EINTR) instead of waiting for the next exit.
     */
    public void unblockAllSignalsInRun() {
        try (Arena arena = Arena.ofConfined()) {
            // struct kvm_signal_mask { u32 len; u8 sigset[len]; }: the kernel's 8-byte sigset.
            MemorySegment mask = arena.allocate(SIGNAL_MASK_HEADER_SIZE + Signals.KERNEL_SIGSET_SIZE, 8);
            mask.set(ValueLayout.JAVA_INT, 0, (int) Signals.KERNEL_SIGSET_SIZE);
            KvmIoctl.KVM_SET_SIGNAL_MASK.call(fd(), mask);
        }
    }

    /** KVM_GET_MSRS of one MSR, e.g. 0x10 (IA32_TSC). */
    public long getMsr(int index) {
        try (Arena arena = Arena.ofConfined()) {
            // struct kvm_msrs { u32 nmsrs; u32 pad; struct kvm_msr_entry { u32 index; u32 reserved; u64 data; } }
            MemorySegment msrs = arena.allocate(MSRS_HEADER_SIZE + MSR_ENTRY_SIZE, 8);
            msrs.set(ValueLayout.JAVA_INT, 0, 1);
            msrs.set(ValueLayout.JAVA_INT, MSRS_HEADER_SIZE, index);
            int n = KvmIoctl.KVM_GET_MSRS.call(fd(), msrs);
            if (n != 1) {
                throw new IllegalStateException("KVM_GET_MSRS read no MSR 0x" + Integer.toHexString(index));
            }
            return msrs.get(ValueLayout.JAVA_LONG, MSRS_HEADER_SIZE + 8);
        }
    }

    /** KVM_GET_TSC_KHZ: the guest's TSC frequency in kHz. */
    public long tscKhz() {
        return KvmIoctl.KVM_GET_TSC_KHZ.call(fd(), 0L);
    }

    /** KVM_GET_REGS. */
    public KvmRegs getRegs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(KvmRegs.SIZE, 8);
            KvmIoctl.KVM_GET_REGS.call(fd(), regs);
            return KvmRegs.read(regs);
        }
    }

    /** KVM_SET_REGS. */
    public void setRegs(KvmRegs value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment regs = arena.allocate(KvmRegs.SIZE, 8);
            value.write(regs);
            KvmIoctl.KVM_SET_REGS.call(fd(), regs);
        }
    }

    /** KVM_GET_SREGS. */
    public KvmSregs getSregs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(KvmSregs.SIZE, 8);
            KvmIoctl.KVM_GET_SREGS.call(fd(), sregs);
            return KvmSregs.read(sregs);
        }
    }

    /** KVM_SET_SREGS. */
    public void setSregs(KvmSregs value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment sregs = arena.allocate(KvmSregs.SIZE, 8);
            value.write(sregs);
            KvmIoctl.KVM_SET_SREGS.call(fd(), sregs);
        }
    }

    /** KVM_SET_CPUID2: what the guest's cpuid returns (before the first {@link #run()}). */
    public void setCpuid2(List<KvmCpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cpuid2 = arena.allocate(KvmCpuidEntry.cpuid2Size(entries.size()), 8);
            KvmCpuidEntry.writeAll(cpuid2, entries);
            KvmIoctl.KVM_SET_CPUID2.call(fd(), cpuid2);
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
