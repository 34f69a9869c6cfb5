package kvm.provider.kvm;

import java.lang.foreign.MemorySegment;
import kvm.provider.os.Libc;

/**
 * Every KVM ioctl this layer issues, in one place. Each number is encoded as linux/kvm.h does
 * with _IO/_IOR/_IOW/_IOWR (direction, the size of the argument struct, type 0xAE, number), from
 * the sizes of the structs named in this package; the constant's name is the kernel's, and names
 * the call in a {@link kvm.provider.os.NativeCallException} ("KVM_CREATE_VCPU failed: EEXIST").
 */
enum KvmIoctl {
    // on /dev/kvm
    KVM_GET_API_VERSION(io(0x00)),
    KVM_CREATE_VM(io(0x01)),
    KVM_CHECK_EXTENSION(io(0x03)),
    KVM_GET_VCPU_MMAP_SIZE(io(0x04)),
    KVM_GET_SUPPORTED_CPUID(iowr(0x05, KvmCpuidEntry.CPUID2_HEADER.byteSize())),
    // on a VM
    KVM_CREATE_VCPU(io(0x41)),
    KVM_SET_USER_MEMORY_REGION(iow(0x46, KvmVm.REGION_SIZE)),
    KVM_SET_TSS_ADDR(io(0x47)),
    KVM_CREATE_IRQCHIP(io(0x60)),
    KVM_ENABLE_CAP(iow(0xa3, KvmVm.ENABLE_CAP_SIZE)),
    KVM_SIGNAL_MSI(iow(0xa5, KvmVm.MSI_SIZE)),
    KVM_X86_SET_MSR_FILTER(iow(0xc6, KvmVm.MSR_FILTER_SIZE)),
    // on a vCPU
    KVM_RUN(io(0x80)),
    KVM_GET_REGS(ior(0x81, KvmRegs.LAYOUT.byteSize())),
    KVM_SET_REGS(iow(0x82, KvmRegs.LAYOUT.byteSize())),
    KVM_GET_SREGS(ior(0x83, KvmSregs.LAYOUT.byteSize())),
    KVM_SET_SREGS(iow(0x84, KvmSregs.LAYOUT.byteSize())),
    KVM_INTERRUPT(iow(0x86, KvmVcpu.INTERRUPT_SIZE)),
    KVM_GET_MSRS(iowr(0x88, KvmVcpu.MSRS_HEADER_SIZE)),
    KVM_SET_SIGNAL_MASK(iow(0x8b, KvmVcpu.SIGNAL_MASK_HEADER_SIZE)),
    KVM_SET_CPUID2(iow(0x90, KvmCpuidEntry.CPUID2_HEADER.byteSize())),
    KVM_SET_GUEST_DEBUG(iow(0x9b, KvmVcpu.GUEST_DEBUG_SIZE)),
    KVM_GET_TSC_KHZ(io(0xa3));

    /** KVMIO, the ioctl type of every KVM call. */
    static final int TYPE = 0xae;
    private static final long WRITE = 1, READ = 2;

    private final long number;

    KvmIoctl(long number) {
        this.number = number;
    }

    /** The request number ioctl(2) takes. */
    long number() {
        return number;
    }

    /** This ioctl with a pointer argument; its non-negative result, or throws "NAME failed: ENAME". */
    int call(int fd, MemorySegment arg) {
        return Libc.check(name(), Libc.ioctl(fd, number, arg));
    }

    /** This ioctl with an integer argument; its non-negative result, or throws "NAME failed: ENAME". */
    int call(int fd, long arg) {
        return Libc.check(name(), Libc.ioctl(fd, number, arg));
    }

    private static long io(int nr) {
        return encode(0, nr, 0);
    }

    private static long ior(int nr, long size) {
        return encode(READ, nr, size);
    }

    private static long iow(int nr, long size) {
        return encode(WRITE, nr, size);
    }

    private static long iowr(int nr, long size) {
        return encode(READ | WRITE, nr, size);
    }

    /** _IOC: direction in bits 31-30, size in 29-16 (14 bits), type in 15-8, number in 7-0. */
    private static long encode(long direction, int nr, long size) {
        if (size >= 1 << 14) {
            throw new IllegalArgumentException("ioctl argument of " + size + " bytes");
        }
        return direction << 30 | size << 16 | (long) TYPE << 8 | nr;
    }
}
