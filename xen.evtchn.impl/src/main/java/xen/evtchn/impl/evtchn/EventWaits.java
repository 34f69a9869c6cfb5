package xen.evtchn.impl.evtchn;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * vCPUs waiting in SCHEDOP_block or SCHEDOP_poll (Xen's blocked flag and poll_mask). The waiting
 * vCPU's own thread parks inside the hypercall; an upcall for that vCPU wakes it, and so does a
 * port that becomes pending while the vCPU polls it (masked or not). The delivery path pays one
 * read of a counter when nobody polls.
 */
final class EventWaits {
    private final AtomicReferenceArray<Waiter> waiting;
    private final AtomicInteger pollers = new AtomicInteger();

    private static final class Waiter {
        final Thread thread = Thread.currentThread();
        final int[] ports;
        volatile boolean woken;

        Waiter(int[] ports) {
            this.ports = ports;
        }

        void wake() {
            woken = true;
            LockSupport.unpark(thread);
        }
    }

    EventWaits(int vcpus) {
        waiting = new AtomicReferenceArray<>(vcpus);
    }

    /**
     * Parks the calling thread as vCPU {@code vcpu} until {@code ready} holds, a wake-up comes,
     * {@code deadline} (System.nanoTime; Long.MAX_VALUE for none) passes, or the thread is
     * interrupted (its flag stays set). {@code ports} are the ports it polls, null for a block.
     */
    void await(int vcpu, int[] ports, long deadline, BooleanSupplier ready) {
        Waiter w = new Waiter(ports);
        waiting.set(vcpu, w);
        if (ports != null) {
            pollers.incrementAndGet();
        }
        try {
            // Published before the check: an event after the check finds the waiter and wakes it.
            while (!w.woken && !ready.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                LockSupport.parkNanos(this, deadline == Long.MAX_VALUE ? Long.MAX_VALUE : left);
            }
        } finally {
            waiting.set(vcpu, null);
            if (ports != null) {
                pollers.decrementAndGet();
            }
        }
    }

    /** vCPU {@code vcpu} has an upcall pending: it stops blocking or polling. */
    void upcallPending(int vcpu) {
        Waiter w = waiting.get(vcpu);
        if (w != null) {
            w.wake();
        }
    }

    /** {@code port} newly became pending: wake the vCPUs that poll it. */
    void portPending(int port) {
        if (pollers.get() == 0) {
            return;
        }
        for (int v = 0; v < waiting.length(); v++) {
            Waiter w = waiting.get(v);
            if (w != null && w.ports != null && contains(w.ports, port)) {
                w.wake();
            }
        }
    }

    /** Wakes every waiter (shutdown, soft reset, a host that stops the domain). */
    void wakeAll() {
        for (int v = 0; v < waiting.length(); v++) {
            upcallPending(v);
        }
    }

    private static boolean contains(int[] ports, int port) {
        for (int p : ports) {
            if (p == port) {
                return true;
            }
        }
        return false;
    }
}
