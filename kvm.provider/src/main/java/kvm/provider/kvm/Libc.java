package kvm.provider.kvm;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import kvm.provider.NativeCallException;

/**
 * The libc calls the KVM layer needs (open, close, ioctl, mmap, munmap) as java.lang.foreign
 * downcalls. Every call that can fail captures errno into a segment owned by the calling thread,
 * read back with {@link #errno()} on that same thread right after the call.
 *
 * <p>ioctl is variadic: one handle takes a pointer third argument, one a long, both linked with
 * {@code firstVariadicArg(2)}. None is {@code critical}: KVM_RUN blocks for as long as the guest
 * runs and must not hold off GC safepoints.
 *
 * <p>Constants are those of Linux on x86-64 (the only platform the KVM structs here describe).
 */
final class Libc {
    static final int O_RDWR = 2;
    static final int O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;
    static final int MAP_PRIVATE = 2;
    static final int MAP_ANONYMOUS = 0x20;
    static final int MAP_NORESERVE = 0x4000;

    /** The signal that kicks a vCPU thread out of KVM_RUN (see {@link VcpuKick}). */
    static final int SIGUSR1 = 10;
    static final int SIG_BLOCK = 0;
    /** glibc's sigset_t (1024 bits); the kernel's, as KVM_SET_SIGNAL_MASK takes it, is 8 bytes. */
    static final long SIGSET_SIZE = 128;
    static final long KERNEL_SIGSET_SIZE = 8;
    static final int EAGAIN = 11;

    static final int EINTR = 4;
    static final int E2BIG = 7;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO_OPTION = Linker.Option.captureCallState("errno");

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final AddressLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(INT, PTR, INT), ERRNO_OPTION);
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(INT, INT), ERRNO_OPTION);
    private static final MethodHandle IOCTL_PTR = handle("ioctl", FunctionDescriptor.of(INT, INT, LONG, PTR),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = handle("ioctl", FunctionDescriptor.of(INT, INT, LONG, LONG),
            ERRNO_OPTION, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = handle("mmap",
            FunctionDescriptor.of(PTR, PTR, LONG, INT, INT, INT, LONG), ERRNO_OPTION);
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(INT, PTR, LONG), ERRNO_OPTION);
    private static final MethodHandle PTHREAD_SIGMASK = handle("pthread_sigmask", FunctionDescriptor.of(INT, INT, PTR, PTR));
    private static final MethodHandle SIGTIMEDWAIT = handle("sigtimedwait",
            FunctionDescriptor.of(INT, PTR, PTR, PTR), ERRNO_OPTION);
    private static final MethodHandle TGKILL = handle("tgkill", FunctionDescriptor.of(INT, INT, INT, INT), ERRNO_OPTION);
    private static final MethodHandle GETPID = handle("getpid", FunctionDescriptor.of(INT));
    private static final MethodHandle SIGNAL = handle("signal", FunctionDescriptor.of(PTR, INT, PTR), ERRNO_OPTION);
    /** signal(2)'s SIG_IGN and SIG_ERR. */
    private static final long SIG_IGN = 1;
    private static final long SIG_ERR = -1;
    private static final MethodHandle GETTID = handle("gettid", FunctionDescriptor.of(INT));

    /** One errno capture segment per calling thread, freed with the thread. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private Libc() {
    }

    /** errno left by the calling thread's last call through this class. */
    static int errno() {
        return (int) ERRNO.get(CAPTURE.get(), 0L);
    }

    /** open(2) without a mode; the fd, or throws "open PATH failed: ENAME". */
    static int open(String path, int flags) {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = (int) OPEN.invokeExact(CAPTURE.get(), arena.allocateFrom(path), flags);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
        if (fd < 0) {
            throw new NativeCallException("open " + path, errno());
        }
        return fd;
    }

    /** close(2); the raw result (-1 and errno on failure). */
    static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(CAPTURE.get(), fd);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** ioctl(2) with a pointer argument; the raw result (-1 and errno on failure). */
    static int ioctlRaw(int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL_PTR.invokeExact(CAPTURE.get(), fd, request, arg);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** ioctl(2) with an integer argument; the raw result (-1 and errno on failure). */
    static int ioctlRaw(int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(CAPTURE.get(), fd, request, arg);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** ioctl with a pointer argument; its non-negative result, or throws "NAME failed: ENAME". */
    static int ioctl(String name, int fd, long request, MemorySegment arg) {
        return check(name, ioctlRaw(fd, request, arg));
    }

    /** ioctl with an integer argument; its non-negative result, or throws "NAME failed: ENAME". */
    static int ioctl(String name, int fd, long request, long arg) {
        return check(name, ioctlRaw(fd, request, arg));
    }

    /** mmap(2) of {@code length} bytes of {@code fd} anywhere; the mapping reinterpreted to its length. */
    static MemorySegment mmap(String what, long length, int prot, int flags, int fd, long offset) {
        MemorySegment addr;
        try {
            addr = (MemorySegment) MMAP.invokeExact(CAPTURE.get(), MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
        if (addr.address() == -1L) { // MAP_FAILED
            throw new NativeCallException("mmap " + what, errno());
        }
        return addr.reinterpret(length);
    }

    /** munmap(2); the raw result (-1 and errno on failure). */
    static int munmap(MemorySegment mapping) {
        try {
            return (int) MUNMAP.invokeExact(CAPTURE.get(), mapping, mapping.byteSize());
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** An anonymous private mapping of {@code length} zero bytes, committed as touched (guest RAM). */
    static MemorySegment mmapAnonymous(String what, long length) {
        return mmap(what, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
    }

    /** Blocks {@code signal} in the calling thread (pthread_sigmask SIG_BLOCK). */
    static void blockSignal(int signal) {
        int r;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = sigset(arena, signal);
            r = (int) PTHREAD_SIGMASK.invokeExact(SIG_BLOCK, set, MemorySegment.NULL);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
        if (r != 0) { // returns the error number itself
            throw new NativeCallException("pthread_sigmask", r);
        }
    }

    /** Takes {@code signal} if it is pending for the calling thread (blocked there); true if it was. */
    static boolean consumeSignal(MemorySegment set) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(16, 8); // struct timespec {0, 0}: do not wait
            int r = (int) SIGTIMEDWAIT.invokeExact(CAPTURE.get(), set, MemorySegment.NULL, zero);
            if (r < 0 && errno() != EAGAIN && errno() != EINTR) {
                throw new NativeCallException("sigtimedwait", errno());
            }
            return r > 0;
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** A glibc sigset_t in {@code arena} holding just {@code signal}. */
    static MemorySegment sigset(Arena arena, int signal) {
        MemorySegment set = arena.allocate(SIGSET_SIZE, 8);
        set.set(ValueLayout.JAVA_LONG, 0, 1L << (signal - 1));
        return set;
    }

    /**
     * Ignores {@code signal} process-wide (SIG_IGN). A thread that blocks it still gets it queued
     * (the kernel never ignores a blocked signal, nor one blocked outside KVM_RUN's own mask), so
     * {@link VcpuKick} keeps working; any other thread drops it instead of dying of it.
     */
    static void ignoreSignal(int signal) {
        try {
            MemorySegment old = (MemorySegment) SIGNAL.invokeExact(CAPTURE.get(), signal, MemorySegment.ofAddress(SIG_IGN));
            if (old.address() == SIG_ERR) {
                throw new NativeCallException("signal", errno());
            }
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** tgkill(2); the raw result (-1 and errno on failure, e.g. ESRCH once the thread ended). */
    static int tgkill(int pid, int tid, int signal) {
        try {
            return (int) TGKILL.invokeExact(CAPTURE.get(), pid, tid, signal);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** The calling thread's kernel thread id. */
    static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    private static int check(String name, int result) {
        if (result < 0) {
            throw new NativeCallException(name, errno());
        }
        return result;
    }


    private static MethodHandle handle(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }
}
