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

    // kvm_run offsets
    static final long RUN_EXIT_REASON = 8;
    static final long RUN_IO_DIRECTION = 32;
    static final long RUN_IO_SIZE = 33;
    static final long RUN_IO_PORT = 34;
    static final long RUN_IO_COUNT = 36;
    static final long RUN_IO_DATA_OFFSET = 40;
    static final long RUN_MSR_ERROR = 32;
    static final long RUN_MSR_REASON = 40;
    static final long RUN_MSR_INDEX = 44;
    static final long RUN_MSR_DATA = 48;

    private final int id;
    private final int fd;
    private final MemorySegment run;
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
     * it (EINTR) is not an error: the reason is then {@link KvmExit#INTR}.
     */
    public int run() {
        int r = Libc.ioctlRaw(fd(), KVM_RUN, 0L);
        if (r < 0) {
            int errno = Libc.errno();
            if (errno == Libc.EINTR) {
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

    /** The whole mapped kvm_run (and what follows it), valid until {@link #close()}. */
    public MemorySegment kvmRun() {
        return run;
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
