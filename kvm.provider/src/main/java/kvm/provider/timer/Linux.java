package kvm.provider.timer;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Set;
import kvm.provider.os.Libc;
import kvm.provider.os.NativeCallException;

/**
 * The Linux calls only the precise timer needs (clock_gettime, timerfd, eventfd, epoll), linked
 * through the bundle's one libc binding ({@link Libc}: errno, read, write, close). Nothing here is
 * linked unless {@link #supported()} says so; every other member may be used only then.
 *
 * <p>Constants and layouts are those of 64-bit Linux on x86-64, aarch64 and riscv64 (asm-generic
 * flag values, the same errno numbers); {@link #supported()} refuses any other platform.
 */
final class Linux {
    static final int CLOCK_MONOTONIC = 1;
    static final int TFD_NONBLOCK = Libc.O_NONBLOCK;
    static final int TFD_CLOEXEC = Libc.O_CLOEXEC;
    static final int TFD_TIMER_ABSTIME = 1;
    static final int EFD_NONBLOCK = Libc.O_NONBLOCK;
    static final int EFD_CLOEXEC = Libc.O_CLOEXEC;
    static final int EPOLL_CLOEXEC = Libc.O_CLOEXEC;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLLIN = 0x1;

    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private static final Set<String> ARCHES = Set.of("amd64", "x86_64", "aarch64", "riscv64");

    /** Null if supported, else why not. */
    private static final String UNSUPPORTED = unsupportedReason();

    private Linux() {
    }

    static boolean supported() {
        return UNSUPPORTED == null;
    }

    /** Why {@link #supported()} is false (null if it is true). */
    static String whyUnsupported() {
        return UNSUPPORTED;
    }

    private static String unsupportedReason() {
        String os = System.getProperty("os.name", "?");
        String arch = System.getProperty("os.arch", "?").toLowerCase(Locale.ROOT);
        if (!os.startsWith("Linux")) {
            return "not Linux (os.name=" + os + ")";
        }
        if (!ARCHES.contains(arch)) {
            return "unsupported architecture " + arch + " (x86-64, aarch64 or riscv64 needed)";
        }
        try {
            return Calls.ready() ? null : "libc symbols not found";
        } catch (Throwable e) {
            // Linkage errors, IllegalCallerException when native access is denied, ...
            return "java.lang.foreign unavailable: " + e;
        }
    }

    // ---- the calls: raw results, -1 and errno (Libc.errno()) on failure ----

    /** CLOCK_MONOTONIC in nanoseconds; {@code timespec} is 16 bytes owned by the calling thread. */
    static long monotonicNanos(MemorySegment timespec) {
        try {
            int r = (int) Calls.CLOCK_GETTIME.invokeExact(CLOCK_MONOTONIC, timespec);
            if (r != 0) {
                throw new IllegalStateException("clock_gettime(CLOCK_MONOTONIC) failed");
            }
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
        return timespec.get(ValueLayout.JAVA_LONG, 0) * NANOS_PER_SECOND + timespec.get(ValueLayout.JAVA_LONG, 8);
    }

    static int timerfdCreate(int clock, int flags) {
        try {
            return (int) Calls.TIMERFD_CREATE.invokeExact(Libc.errnoCapture(), clock, flags);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /**
     * Arms {@code fd} to fire once at absolute {@code deadline} ns on its clock, or disarms it if
     * {@code deadline} is {@link Long#MAX_VALUE}. {@code itimerspec} is 32 bytes owned by the
     * calling thread. A deadline of 0 or less would disarm the timer: callers pass one in the future.
     */
    static int timerfdSetAbsolute(int fd, long deadline, MemorySegment itimerspec) {
        long sec = 0;
        long nsec = 0;
        if (deadline != Long.MAX_VALUE) {
            sec = deadline / NANOS_PER_SECOND;
            nsec = deadline % NANOS_PER_SECOND;
        }
        itimerspec.set(ValueLayout.JAVA_LONG, 0, 0L); // it_interval: one-shot
        itimerspec.set(ValueLayout.JAVA_LONG, 8, 0L);
        itimerspec.set(ValueLayout.JAVA_LONG, 16, sec); // it_value
        itimerspec.set(ValueLayout.JAVA_LONG, 24, nsec);
        try {
            return (int) Calls.TIMERFD_SETTIME.invokeExact(Libc.errnoCapture(), fd, TFD_TIMER_ABSTIME, itimerspec,
                    MemorySegment.NULL);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    static int eventfd(int initval, int flags) {
        try {
            return (int) Calls.EVENTFD.invokeExact(Libc.errnoCapture(), initval, flags);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    static int epollCreate1(int flags) {
        try {
            return (int) Calls.EPOLL_CREATE1.invokeExact(Libc.errnoCapture(), flags);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** Adds {@code fd} for EPOLLIN with {@code data} as its user data; {@code event} is one epoll_event. */
    static int epollAdd(int epfd, int fd, long data, MemorySegment event) {
        event.set(ValueLayout.JAVA_INT, 0, EPOLLIN);
        Calls.EVENT_DATA.set(event, 0L, data);
        try {
            return (int) Calls.EPOLL_CTL.invokeExact(Libc.errnoCapture(), epfd, EPOLL_CTL_ADD, fd, event);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    /** epoll_wait into {@code events} (room for {@code max} epoll_events), no timeout. */
    static int epollWait(int epfd, MemorySegment events, int max) {
        try {
            return (int) Calls.EPOLL_WAIT.invokeExact(Libc.errnoCapture(), epfd, events, max, -1);
        } catch (Throwable e) {
            throw NativeCallException.rethrow(e);
        }
    }

    static long epollEventsBytes(int count) {
        return Calls.EPOLL_EVENT.byteSize() * count;
    }

    /** User data of entry {@code i} of an epoll_wait result array. */
    static long epollData(MemorySegment events, int i) {
        return (long) Calls.EVENT_DATA.get(events, Calls.EPOLL_EVENT.byteSize() * i);
    }


    /** Linked on first use, from {@link #unsupportedReason} only when the platform fits. */
    private static final class Calls {
        /** struct epoll_event: packed on x86-64 (12 bytes, data at 4), naturally aligned elsewhere (16, data at 8). */
        static final StructLayout EPOLL_EVENT = isX86()
                ? MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("events"),
                        ValueLayout.JAVA_LONG_UNALIGNED.withName("data"))
                : MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("events"), MemoryLayout.paddingLayout(4),
                        ValueLayout.JAVA_LONG.withName("data"));
        static final VarHandle EVENT_DATA = EPOLL_EVENT.varHandle(MemoryLayout.PathElement.groupElement("data"));

        private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
        private static final ValueLayout PTR = ValueLayout.ADDRESS;
        private static final Linker.Option ERRNO = Libc.CAPTURE_ERRNO;

        // clock_gettime goes through the vDSO, never blocks: critical (no thread state transition).
        static final MethodHandle CLOCK_GETTIME = Libc.downcall("clock_gettime", FunctionDescriptor.of(INT, INT, PTR),
                Linker.Option.critical(false));
        static final MethodHandle TIMERFD_CREATE = Libc.downcall("timerfd_create", FunctionDescriptor.of(INT, INT, INT),
                ERRNO);
        static final MethodHandle TIMERFD_SETTIME = Libc.downcall("timerfd_settime",
                FunctionDescriptor.of(INT, INT, INT, PTR, PTR), ERRNO);
        static final MethodHandle EVENTFD = Libc.downcall("eventfd", FunctionDescriptor.of(INT, INT, INT), ERRNO);
        static final MethodHandle EPOLL_CREATE1 = Libc.downcall("epoll_create1", FunctionDescriptor.of(INT, INT),
                ERRNO);
        static final MethodHandle EPOLL_CTL = Libc.downcall("epoll_ctl", FunctionDescriptor.of(INT, INT, INT, INT, PTR),
                ERRNO);
        static final MethodHandle EPOLL_WAIT = Libc.downcall("epoll_wait", FunctionDescriptor.of(INT, INT, PTR, INT, INT),
                ERRNO);

        private Calls() {
        }

        static boolean ready() {
            return EPOLL_WAIT != null;
        }

        private static boolean isX86() {
            String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
            return arch.equals("amd64") || arch.equals("x86_64");
        }
    }
}
