package kvm.provider.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import kvm.provider.os.HostErrno;
import kvm.provider.os.Libc;
import kvm.provider.os.NativeCallException;

/**
 * The /dev/kvm file descriptor: API version, capabilities, the vCPU mmap size, and VM creation
 * (rust-vmm's {@code Kvm}). Opening it checks that the API version is 12.
 */
public final class KvmSystem implements AutoCloseable {
    static final String DEVICE = "/dev/kvm";
    /** The only KVM API version there is. */
    public static final int API_VERSION = 12;

    /** Entries first offered to KVM_GET_SUPPORTED_CPUID, doubled while it answers E2BIG. */
    static final int CPUID_FIRST_NENT = 128;
    static final int CPUID_MAX_NENT = 4096;

    private final int fd;
    private boolean closed;

    private KvmSystem(int fd) {
        this.fd = fd;
    }

    /** Opens /dev/kvm; throws {@link NativeCallException} if it cannot be opened or speaks another API version. */
    public static KvmSystem open() {
        int fd = Libc.open(DEVICE, Libc.O_RDWR | Libc.O_CLOEXEC);
        KvmSystem kvm = new KvmSystem(fd);
        int version;
        try {
            version = kvm.apiVersion();
        } catch (RuntimeException e) {
            kvm.close();
            throw e;
        }
        if (version != API_VERSION) {
            kvm.close();
            throw new IllegalStateException("KVM API version " + version + ", expected " + API_VERSION);
        }
        return kvm;
    }

    /** Whether /dev/kvm exists here and opens (x86-64 Linux only). */
    public static boolean isAvailable() {
        return unavailableReason() == null;
    }

    /** Null if {@link #isAvailable()}, else why not, e.g. "/dev/kvm does not exist". */
    public static String unavailableReason() {
        String os = System.getProperty("os.name", "?");
        String arch = System.getProperty("os.arch", "?").toLowerCase(Locale.ROOT);
        if (!os.startsWith("Linux")) {
            return "not Linux (os.name=" + os + ")";
        }
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return "not x86-64 (os.arch=" + arch + ")";
        }
        if (!Files.exists(Path.of(DEVICE))) {
            return DEVICE + " does not exist";
        }
        try {
            open().close();
            return null;
        } catch (NativeCallException e) {
            return e.getMessage();
        } catch (Throwable e) {
            // Linkage errors, IllegalCallerException when native access is denied, a wrong API version...
            return DEVICE + " unusable: " + e;
        }
    }

    /** KVM_GET_API_VERSION. */
    public int apiVersion() {
        return KvmIoctl.KVM_GET_API_VERSION.call(fd(), 0L);
    }

    /** KVM_CHECK_EXTENSION: 0 if {@code cap} is absent, else 1 or a capability-specific value. */
    public int checkExtension(KvmCap cap) {
        return KvmIoctl.KVM_CHECK_EXTENSION.call(fd(), cap.number());
    }

    /** KVM_GET_VCPU_MMAP_SIZE: bytes to mmap of each vCPU fd (kvm_run and what follows). */
    public int vcpuMmapSize() {
        return KvmIoctl.KVM_GET_VCPU_MMAP_SIZE.call(fd(), 0L);
    }

    /** KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can offer a guest (a base for KVM_SET_CPUID2). */
    public List<KvmCpuidEntry> supportedCpuid() {
        for (int nent = CPUID_FIRST_NENT; ; nent *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cpuid2 = arena.allocate(KvmCpuidEntry.cpuid2Size(nent), 8);
                cpuid2.set(ValueLayout.JAVA_INT, 0, nent);
                int r = Libc.ioctl(fd(), KvmIoctl.KVM_GET_SUPPORTED_CPUID.number(), cpuid2);
                if (r >= 0) {
                    return KvmCpuidEntry.readAll(cpuid2);
                }
                int errno = Libc.errno();
                if (errno != HostErrno.E2BIG || nent >= CPUID_MAX_NENT) {
                    throw new NativeCallException(KvmIoctl.KVM_GET_SUPPORTED_CPUID.name(), errno);
                }
            }
        }
    }

    /** KVM_CREATE_VM (default machine type). */
    public KvmVm createVm() {
        int mmapSize = vcpuMmapSize();
        int vmFd = KvmIoctl.KVM_CREATE_VM.call(fd(), 0L);
        return new KvmVm(vmFd, mmapSize);
    }

    private int fd() {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        return fd;
    }

    /** Closes /dev/kvm; VMs created from it stay usable until closed themselves. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }
}
