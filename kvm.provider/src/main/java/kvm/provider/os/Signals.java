package kvm.provider.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The signal calls that kick a vCPU thread out of KVM_RUN: block a signal in one thread, send it
 * to that thread, take it when it is pending, ignore it everywhere else.
 */
public final class Signals {
    /** The signal that kicks a vCPU thread out of KVM_RUN. */
    public static final int SIGUSR1 = 10;
    static final int SIG_BLOCK = 0;
    /** glibc's sigset_t (1024 bits); the kernel's, as KVM_SET_SIGNAL_MASK takes it, is 8 bytes. */
    static final long SIGSET_SIZE = 128;
    public static final long KERNEL_SIGSET_SIZE = 8;
    /** signal(2)'s SIG_IGN and SIG_ERR. */
    private static final long SIG_IGN = 1;
    private static final long SIG_ERR = -1;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout PTR = ValueLayout.ADDRESS;
    private static final MethodHandle PTHREAD_SIGMASK = Libc.downcall("pthread_sigmask",
            FunctionDescriptor.of(INT, INT, PTR, PTR));
    private static final MethodHandle SIGTIMEDWAIT = Libc.downcall("sigtimedwait",
            FunctionDescriptor.of(INT, PTR, PTR, PTR), Libc.CAPTURE_ERRNO);
    private static final MethodHandle TGKILL = Libc.downcall("tgkill", FunctionDescriptor.of(INT, INT, INT, INT),
            Libc.CAPTURE_ERRNO);
    private static final MethodHandle GETPID = Libc.downcall("getpid", FunctionDescriptor.of(INT));
    private static final MethodHandle GETTID = Libc.downcall("gettid", FunctionDescriptor.of(INT));
    private static final MethodHandle SIGNAL = Libc.downcall("signal", FunctionDescriptor.of(PTR, INT, PTR),
            Libc.CAPTURE_ERRNO);

    private Signals() {
    }

    /** Blocks {@code signal} in the calling thread (pthread_sigmask SIG_BLOCK). */
    public static void block(int signal) {
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

    /** Takes a signal of {@code set} if one is pending for the calling thread (blocked there); true if it was. */
    public static boolean consume(MemorySegment set) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(16, 8); // struct timespec {0, 0}: do not wait
            int r = (int) SIGTIMEDWAIT.invokeExact(Libc.errnoCapture(), set, MemorySegment.NULL, zero);
            if (r < 0 && Libc.errno() != HostErrno.EAGAIN && Libc.errno() != HostErrno.EINTR) {
                throw new NativeCallException("sigtimedwait", Libc.errno());
            }
            return r > 0;
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** A glibc sigset_t in {@code arena} holding just {@code signal}. */
    public static MemorySegment sigset(Arena arena, int signal) {
        MemorySegment set = arena.allocate(SIGSET_SIZE, 8);
        set.set(ValueLayout.JAVA_LONG, 0, 1L << (signal - 1));
        return set;
    }

    /**
     * Ignores {@code signal} process-wide (SIG_IGN). A thread that blocks it still gets it queued
     * (the kernel never ignores a blocked signal, nor one blocked outside KVM_RUN's own mask), so
     * kicks keep working; any other thread drops it instead of dying of it.
     */
    public static void ignore(int signal) {
        try {
            MemorySegment old = (MemorySegment) SIGNAL.invokeExact(Libc.errnoCapture(), signal,
                    MemorySegment.ofAddress(SIG_IGN));
            if (old.address() == SIG_ERR) {
                throw new NativeCallException("signal", Libc.errno());
            }
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** tgkill(2); the raw result (-1 and errno on failure, e.g. ESRCH once the thread ended). */
    public static int tgkill(int pid, int tid, int signal) {
        try {
            return (int) TGKILL.invokeExact(Libc.errnoCapture(), pid, tid, signal);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    public static int getpid() {
        try {
            return (int) GETPID.invokeExact();
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** The calling thread's kernel thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }
}
