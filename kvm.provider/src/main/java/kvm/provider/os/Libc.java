package kvm.provider.os;

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

/**
 * The host's libc through java.lang.foreign, shared by the KVM layer and the timers: the one
 * native linker, the one errno capture, and the file calls both use (open, close, read, write,
 * ioctl, mmap, munmap). Other packages link their own calls with {@link #downcall}; those that
 * can fail pass {@link #errnoCapture()} as first argument and read {@link #errno()} after.
 *
 * <p>errno is captured into a segment owned by the calling thread, read back with
 * {@link #errno()} on that same thread right after the call. ioctl is variadic: one handle takes a
 * pointer third argument, one a long, both linked with {@code firstVariadicArg(2)}. No call here
 * is {@code critical}: KVM_RUN blocks for as long as the guest runs and must not hold off GC
 * safepoints.
 *
 * <p>Constants are those of 64-bit Linux on x86-64, aarch64 and riscv64 (asm-generic flag values,
 * the same errno numbers). Linked when first used: callers check the platform before.
 */
public final class Libc {
    public static final int O_RDWR = 2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** The option that makes a downcall take {@link #errnoCapture()} as its first argument. */
    public static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final AddressLayout PTR = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = downcall("open", FunctionDescriptor.of(INT, PTR, INT), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(INT, INT), CAPTURE_ERRNO);
    private static final MethodHandle READ = downcall("read", FunctionDescriptor.of(LONG, INT, PTR, LONG), CAPTURE_ERRNO);
    private static final MethodHandle WRITE = downcall("write", FunctionDescriptor.of(LONG, INT, PTR, LONG),
            CAPTURE_ERRNO);
    private static final MethodHandle WRITE_NO_ERRNO = downcall("write", FunctionDescriptor.of(LONG, INT, PTR, LONG));
    private static final MethodHandle IOCTL_PTR = downcall("ioctl", FunctionDescriptor.of(INT, INT, LONG, PTR),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_LONG = downcall("ioctl", FunctionDescriptor.of(INT, INT, LONG, LONG),
            CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = downcall("mmap",
            FunctionDescriptor.of(PTR, PTR, LONG, INT, INT, INT, LONG), CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = downcall("munmap", FunctionDescriptor.of(INT, PTR, LONG), CAPTURE_ERRNO);

    /** One errno capture segment per calling thread, freed with the thread. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private Libc() {
    }

    /**
     * A downcall handle for libc's {@code name}; with {@link #CAPTURE_ERRNO} among the options it
     * takes {@link #errnoCapture()} as its first argument.
     *
     * @throws UnsatisfiedLinkError if libc has no such symbol
     */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** The calling thread's errno capture segment, the first argument of a {@link #CAPTURE_ERRNO} downcall. */
    public static MemorySegment errnoCapture() {
        return CAPTURE.get();
    }

    /** errno left by the calling thread's last {@link #CAPTURE_ERRNO} call. */
    public static int errno() {
        return (int) ERRNO.get(CAPTURE.get(), 0L);
    }

    /** Returns {@code result} if it is not negative, else throws "{@code call} failed: ENAME" with this thread's errno. */
    public static int check(String call, int result) {
        if (result < 0) {
            throw new NativeCallException(call, errno());
        }
        return result;
    }

    /** {@link #check(String, int)} for calls that return a size. */
    public static long check(String call, long result) {
        if (result < 0) {
            throw new NativeCallException(call, errno());
        }
        return result;
    }

    /** open(2) without a mode; the fd, or throws "open PATH failed: ENAME". */
    public static int open(String path, int flags) {
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
    public static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(CAPTURE.get(), fd);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** read(2) into all of {@code buf}; the raw result (-1 and errno on failure). */
    public static long read(int fd, MemorySegment buf) {
        try {
            return (long) READ.invokeExact(CAPTURE.get(), fd, buf, buf.byteSize());
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** write(2) of all of {@code buf}; the raw result (-1 and errno on failure). */
    public static long write(int fd, MemorySegment buf) {
        try {
            return (long) WRITE.invokeExact(CAPTURE.get(), fd, buf, buf.byteSize());
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** write(2) without errno capture, for any thread (no capture segment is made for it). */
    public static long writeIgnoringErrno(int fd, MemorySegment buf) {
        try {
            return (long) WRITE_NO_ERRNO.invokeExact(fd, buf, buf.byteSize());
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** ioctl(2) with a pointer argument; the raw result (-1 and errno on failure). */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL_PTR.invokeExact(CAPTURE.get(), fd, request, arg);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** ioctl(2) with an integer argument; the raw result (-1 and errno on failure). */
    public static int ioctl(int fd, long request, long arg) {
        try {
            return (int) IOCTL_LONG.invokeExact(CAPTURE.get(), fd, request, arg);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** mmap(2) of {@code length} bytes of {@code fd} anywhere; the mapping reinterpreted to its length. */
    public static MemorySegment mmap(String what, long length, int prot, int flags, int fd, long offset) {
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

    /** An anonymous private mapping of {@code length} zero bytes, committed as touched (guest RAM). */
    public static MemorySegment mmapAnonymous(String what, long length) {
        return mmap(what, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
    }

    /** munmap(2); the raw result (-1 and errno on failure). */
    public static int munmap(MemorySegment mapping) {
        try {
            return (int) MUNMAP.invokeExact(CAPTURE.get(), mapping, mapping.byteSize());
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }
}
