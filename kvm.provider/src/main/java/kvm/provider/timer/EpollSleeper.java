package kvm.provider.timer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import kvm.provider.os.HostErrno;
import kvm.provider.os.Libc;
import kvm.provider.os.NativeCallException;

/**
 * Sleeps in epoll_wait on one timerfd (CLOCK_MONOTONIC, absolute) and one eventfd; clock
 * CLOCK_MONOTONIC through clock_gettime. The timerfd belongs to the timer thread alone: only it
 * arms it, and only when the deadline to sleep until differs from the one it is armed to. Other
 * threads wake it by writing the eventfd.
 *
 * <p>System calls per timer wake-up: epoll_wait, then one timerfd_settime for the next deadline
 * (which also clears the timerfd's expiry count, so the timerfd needs no read). The eventfd is read
 * when epoll reports it. clock_gettime is served by the vDSO.
 */
final class EpollSleeper implements Sleeper {
    private static final long WAKE_EVENT = 1;
    private static final long TIMER_EVENT = 2;
    private static final int MAX_EVENTS = 2;
    /** {@code armedFor} after the timerfd fired: matches no deadline, so the next sleep re-arms (and clears) it. */
    private static final long EXPIRED = Long.MIN_VALUE;

    /** The 8-byte 1 that wake() writes to the eventfd; read-only, shared by every thread. */
    private static final MemorySegment ONE = Arena.ofAuto().allocate(ValueLayout.JAVA_LONG);
    /** Each calling thread's struct timespec for clock_gettime. */
    private static final ThreadLocal<MemorySegment> TIMESPEC =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    static {
        ONE.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    private final int epollFd;
    private final int timerFd;
    private final int eventFd;
    /** wake() writes under the read lock; release() closes the fds under the write lock. */
    private final ReentrantReadWriteLock fdLock = new ReentrantReadWriteLock();
    private boolean released;

    // The timer thread's own, made on its first sleep.
    private Arena threadArena;
    private MemorySegment itimerspec;
    private MemorySegment events;
    private MemorySegment counter;
    /** The absolute deadline the timerfd is armed to; MAX_VALUE: disarmed. */
    private long armedFor = Long.MAX_VALUE;

    private EpollSleeper(int epollFd, int timerFd, int eventFd) {
        this.epollFd = epollFd;
        this.timerFd = timerFd;
        this.eventFd = eventFd;
    }

    /** Makes the timerfd, the eventfd and the epoll instance holding both. */
    static EpollSleeper open() {
        try (Arena setup = Arena.ofConfined()) {
            int timer = -1;
            int event = -1;
            int epoll = -1;
            try {
                timer = Libc.check("timerfd_create", Linux.timerfdCreate(Linux.CLOCK_MONOTONIC,
                        Linux.TFD_CLOEXEC | Linux.TFD_NONBLOCK));
                event = Libc.check("eventfd", Linux.eventfd(0, Linux.EFD_CLOEXEC | Linux.EFD_NONBLOCK));
                epoll = Libc.check("epoll_create1", Linux.epollCreate1(Linux.EPOLL_CLOEXEC));
                MemorySegment ev = setup.allocate(Linux.epollEventsBytes(1), 8);
                Libc.check("epoll_ctl", Linux.epollAdd(epoll, event, WAKE_EVENT, ev));
                Libc.check("epoll_ctl", Linux.epollAdd(epoll, timer, TIMER_EVENT, ev));
                return new EpollSleeper(epoll, timer, event);
            } catch (RuntimeException e) {
                for (int fd : new int[] {epoll, event, timer}) {
                    if (fd >= 0) {
                        Libc.close(fd);
                    }
                }
                throw e;
            }
        }
    }

    @Override
    public long now() {
        return Linux.monotonicNanos(TIMESPEC.get());
    }

    @Override
    public void sleepUntil(long deadline) {
        ensureThreadState();
        if (deadline != armedFor) {
            // deadline > now() >= 0 here: never 0, which would disarm instead.
            Libc.check("timerfd_settime", Linux.timerfdSetAbsolute(timerFd, deadline, itimerspec));
            armedFor = deadline;
        }
        int n = Linux.epollWait(epollFd, events, MAX_EVENTS);
        if (n < 0) {
            int errno = Libc.errno();
            if (errno == HostErrno.EINTR) {
                return;
            }
            throw new NativeCallException("epoll_wait", errno);
        }
        for (int i = 0; i < n; i++) {
            long data = Linux.epollData(events, i);
            if (data == WAKE_EVENT) {
                // Reset the eventfd's counter (EAGAIN if already 0 is fine).
                Libc.read(eventFd, counter);
            } else if (data == TIMER_EVENT) {
                armedFor = EXPIRED;
            }
        }
    }

    @Override
    public void wake() {
        Lock read = fdLock.readLock();
        if (!read.tryLock()) {
            return; // release() holds the write lock: the thread is ending anyway
        }
        try {
            if (!released) {
                // Cannot fail but for EAGAIN at a counter of 2^64-2, which still wakes the thread.
                Libc.writeIgnoringErrno(eventFd, ONE);
            }
        } finally {
            read.unlock();
        }
    }

    @Override
    public void release() {
        ensureThreadState();
        Lock write = fdLock.writeLock();
        write.lock();
        try {
            released = true;
            Libc.close(epollFd);
            Libc.close(timerFd);
            Libc.close(eventFd);
        } finally {
            write.unlock();
        }
        threadArena.close();
    }

    private void ensureThreadState() {
        if (threadArena == null) {
            threadArena = Arena.ofConfined();
            itimerspec = threadArena.allocate(32, 8);
            events = threadArena.allocate(Linux.epollEventsBytes(MAX_EVENTS), 8);
            counter = threadArena.allocate(ValueLayout.JAVA_LONG);
        }
    }
}
