package kvm.provider.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kvm.provider.os.Libc;

/** A VM file descriptor: guest memory slots, the TSS address, vCPU creation (rust-vmm's {@code VmFd}). */
public final class KvmVm implements AutoCloseable {
    /** struct kvm_msi: address_lo, address_hi, data, flags, devid (u32 each), pad[12]. */
    static final long MSI_SIZE = 32;
    /** MSI address of the local APICs (fixed delivery, physical destination in bits 19:12). */
    public static final long MSI_ADDRESS = 0xfee00000L;

    /** struct kvm_enable_cap: cap u32 @0, flags u32 @4, args u64[4] @8, pad[64]. */
    static final long ENABLE_CAP_SIZE = 104;
    static final long ENABLE_CAP_ARGS = 8;
    static final int ENABLE_CAP_MAX_ARGS = 4;
    /** struct kvm_msr_filter: flags u32 @0, ranges[16] @8. */
    static final long MSR_FILTER_SIZE = 392;
    static final long MSR_FILTER_RANGES = 8;
    static final int MSR_FILTER_MAX_RANGES = 16;
    /** KVM_MSR_FILTER_DEFAULT_ALLOW: MSRs outside every range are allowed. */
    public static final int MSR_FILTER_DEFAULT_ALLOW = 0;
    /** KVM_MSR_FILTER_DEFAULT_DENY: MSRs outside every range are denied. */
    public static final int MSR_FILTER_DEFAULT_DENY = 1;

    /** struct kvm_userspace_memory_region: slot u32, flags u32, guest_phys_addr, memory_size, userspace_addr. */
    static final long REGION_SIZE = 32;
    static final long PAGE_SIZE = 4096;

    private final int fd;
    private final int vcpuMmapSize;
    /** The host memory of each slot, kept reachable for as long as KVM maps it. */
    private final Map<Integer, MemorySegment> slots = new HashMap<>();
    private boolean closed;

    KvmVm(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /**
     * KVM_SET_USER_MEMORY_REGION: maps {@code host} (native, page-aligned, a whole number of pages)
     * at guest-physical {@code gpa} in {@code slot}. An empty {@code host} deletes the slot. The
     * caller keeps {@code host} alive until the VM is closed or the slot deleted.
     */
    public void setUserMemoryRegion(int slot, long gpa, MemorySegment host) {
        if (!host.isNative()) {
            throw new IllegalArgumentException("guest memory must be a native segment");
        }
        if (host.address() % PAGE_SIZE != 0 || host.byteSize() % PAGE_SIZE != 0 || gpa % PAGE_SIZE != 0) {
            throw new IllegalArgumentException("guest memory must be page-aligned: host 0x"
                    + Long.toHexString(host.address()) + " size 0x" + Long.toHexString(host.byteSize())
                    + " gpa 0x" + Long.toHexString(gpa));
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = arena.allocate(REGION_SIZE, 8);
            region.set(ValueLayout.JAVA_INT, 0, slot);
            region.set(ValueLayout.JAVA_INT, 4, 0); // flags
            region.set(ValueLayout.JAVA_LONG, 8, gpa);
            region.set(ValueLayout.JAVA_LONG, 16, host.byteSize());
            region.set(ValueLayout.JAVA_LONG, 24, host.byteSize() == 0 ? 0L : host.address());
            KvmIoctl.KVM_SET_USER_MEMORY_REGION.call(fd(), region);
        }
        if (host.byteSize() == 0) {
            slots.remove(slot);
        } else {
            slots.put(slot, host);
        }
    }

    /** KVM_SET_TSS_ADDR: three pages of guest-physical space KVM needs on Intel (e.g. 0xfffbd000). */
    public void setTssAddr(long gpa) {
        KvmIoctl.KVM_SET_TSS_ADDR.call(fd(), gpa);
    }

    /** KVM_ENABLE_CAP on the VM: {@code cap} with up to four {@code args} (the rest zero). */
    public void enableCap(KvmCap cap, long... args) {
        if (args.length > ENABLE_CAP_MAX_ARGS) {
            throw new IllegalArgumentException("at most " + ENABLE_CAP_MAX_ARGS + " args");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment enable = arena.allocate(ENABLE_CAP_SIZE, 8);
            enable.set(ValueLayout.JAVA_INT, 0, cap.number());
            for (int i = 0; i < args.length; i++) {
                enable.set(ValueLayout.JAVA_LONG, ENABLE_CAP_ARGS + 8L * i, args[i]);
            }
            KvmIoctl.KVM_ENABLE_CAP.call(fd(), enable);
        }
    }

    /**
     * KVM_X86_SET_MSR_FILTER: {@code flags} ({@link #MSR_FILTER_DEFAULT_ALLOW} or
     * {@link #MSR_FILTER_DEFAULT_DENY}) for MSRs outside the (at most 16) {@code ranges}.
     */
    public void setMsrFilter(int flags, List<KvmMsrFilterRange> ranges) {
        if (ranges.size() > MSR_FILTER_MAX_RANGES) {
            throw new IllegalArgumentException("at most " + MSR_FILTER_MAX_RANGES + " MSR filter ranges");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment filter = arena.allocate(MSR_FILTER_SIZE, 8);
            filter.set(ValueLayout.JAVA_INT, 0, flags);
            for (int i = 0; i < ranges.size(); i++) {
                ranges.get(i).write(filter, MSR_FILTER_RANGES + KvmMsrFilterRange.SIZE * i, arena);
            }
            KvmIoctl.KVM_X86_SET_MSR_FILTER.call(fd(), filter);
        }
    }

    /**
     * KVM_CREATE_IRQCHIP: an in-kernel PIC, IOAPIC and local APIC per vCPU (before any vCPU is
     * created). HLT is then handled in the kernel, and interrupts go through the APICs
     * ({@link #signalMsi}); KVM_INTERRUPT no longer works.
     */
    public void createIrqchip() {
        KvmIoctl.KVM_CREATE_IRQCHIP.call(fd(), 0L);
    }

    /**
     * KVM_SIGNAL_MSI: a fixed, edge-triggered {@code vector} to the local APIC with id
     * {@code apicId} (0..255), as a device's MSI would; any thread may call it, KVM wakes the vCPU.
     * Returns true if it was delivered, false if the guest's APIC refused it (e.g. software-disabled).
     */
    public boolean signalMsi(int apicId, int vector) {
        if (apicId < 0 || apicId > 255 || vector < 0 || vector > 255) {
            throw new IllegalArgumentException("MSI to APIC " + apicId + " vector " + vector);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment msi = arena.allocate(MSI_SIZE, 8);
            msi.set(ValueLayout.JAVA_INT, 0, (int) (MSI_ADDRESS | (long) apicId << 12));
            msi.set(ValueLayout.JAVA_INT, 8, vector);
            return KvmIoctl.KVM_SIGNAL_MSI.call(fd(), msi) > 0;
        }
    }

    /** KVM_CREATE_VCPU with {@code id}, its kvm_run mapped. */
    public KvmVcpu createVcpu(int id) {
        int vcpuFd = KvmIoctl.KVM_CREATE_VCPU.call(fd(), id);
        MemorySegment run;
        try {
            run = Libc.mmap("kvm_run", vcpuMmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, vcpuFd, 0L);
        } catch (RuntimeException e) {
            Libc.close(vcpuFd);
            throw e;
        }
        return new KvmVcpu(id, vcpuFd, run);
    }

    private int fd() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        return fd;
    }

    /** Closes the VM fd (KVM frees the VM once its vCPUs are closed too). Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            slots.clear();
            Libc.close(fd);
        }
    }
}
