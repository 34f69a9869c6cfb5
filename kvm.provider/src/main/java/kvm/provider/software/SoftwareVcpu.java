package kvm.provider.software;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.Hypercall;

/**
 * One emulated vCPU: just enough x86 for event delivery (IF, one latched interrupt, sti;hlt,
 * hypercalls). Its "instructions" (cli, sti, checkInterrupts, halt, hypercall) run only on the
 * vCPU's own thread, as a real CPU's do; delivery and kicks come from any thread.
 */
public final class SoftwareVcpu {
    private final SoftwareBackend backend;
    private final int id;

    // The interrupt latch and the route to take it by: several deliveries coalesce, like an IRR bit.
    private final AtomicReference<UpcallRoute> latched = new AtomicReference<>();
    // A wake-up without an interrupt (kick, or an upcall with no callback configured).
    private final AtomicBoolean wake = new AtomicBoolean();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong kicks = new AtomicLong();
    private volatile UpcallRoute lastRoute;
    private volatile boolean interruptsEnabled;
    private volatile boolean halted;
    private volatile boolean stop;

    private volatile Thread thread;
    private GuestCode code;
    private volatile Throwable failure;

    SoftwareVcpu(SoftwareBackend backend, int id) {
        this.backend = backend;
        this.id = id;
    }

    public int id() {
        return id;
    }

    // ---- the instructions, on the vCPU thread only ----

    /** Clears IF: interrupts stay latched until {@link #sti()}. */
    public void cli() {
        checkOwner();
        interruptsEnabled = false;
    }

    /** Sets IF; a latched interrupt is taken at the next {@link #checkInterrupts()}. */
    public void sti() {
        checkOwner();
        interruptsEnabled = true;
    }

    public boolean interruptsEnabled() {
        return interruptsEnabled;
    }

    /**
     * The instruction boundary: with IF=1 and an interrupt latched, takes it through an interrupt
     * gate (IF=0 while the guest's handler runs, restored on return as iret does).
     *
     * @return true if an interrupt was taken
     */
    public boolean checkInterrupts() {
        checkOwner();
        // Plain reads first: this runs in every guest loop and must cost next to nothing.
        if (!interruptsEnabled || latched.get() == null) {
            return false;
        }
        UpcallRoute route = latched.getAndSet(null);
        if (route == null) {
            return false;
        }
        interruptsEnabled = false;
        handled.incrementAndGet();
        try {
            code.upcall(this, route);
        } finally {
            interruptsEnabled = true;
            relatchIfLevelHeld(route);
        }
        return true;
    }

    /**
     * sti;hlt: enables interrupts, waits for a latched interrupt, a kick or a stop request, then
     * takes the interrupt if there is one. May return with nothing to do (as hlt does on an NMI),
     * e.g. after a stale kick or a thread interrupt; guest loops re-check their condition.
     */
    public void halt() {
        checkOwner();
        interruptsEnabled = true;
        // Publish "halted" before checking the latch: a deliverer that set the latch after our
        // check sees halted=true and unparks us, so no wake-up is lost.
        halted = true;
        try {
            while (latched.get() == null && !wake.get() && !stop
                    && !Thread.currentThread().isInterrupted()) {
                LockSupport.park(this);
            }
        } finally {
            halted = false;
        }
        // Kicks so far are served by this return; later ones stay for the next halt.
        wake.set(false);
        checkInterrupts();
    }

    /**
     * Makes hypercall {@code nr} with up to five arguments (rdi, rsi, rdx, r10, r8; missing ones
     * are 0) and returns the handler's rax. A handler exception is a host bug: it propagates to
     * the guest code and so to {@link SoftwareBackend#join}.
     */
    public long hypercall(int nr, long... args) {
        checkOwner();
        if (args.length > Hypercall.MAX_ARGS) {
            throw new IllegalArgumentException("a hypercall takes at most " + Hypercall.MAX_ARGS
                    + " arguments: got " + args.length);
        }
        long[] regs = Arrays.copyOf(args, Hypercall.MAX_ARGS);
        return backend.hypercalls().hypercall(
                new VcpuHypercall(nr, backend.domid(), id, regs, backend.memory()));
    }

    /**
     * rdtsc: the software vCPU's time stamp counter counts nanoseconds on CLOCK_MONOTONIC
     * (System.nanoTime), so {@link SoftwareBackend#TSC_HZ} is 1 GHz. Guests turn it into Xen system
     * time with the vcpu_time_info the hypervisor writes, as on hardware.
     */
    public long rdtsc() {
        return backend.tsc();
    }

    /** True once the backend is closing or another vCPU crashed; guest loops then return. */
    public boolean stopRequested() {
        return stop;
    }

    // ---- from any thread ----

    /** True while the vCPU waits in {@link #halt()}. */
    public boolean isHalted() {
        return halted;
    }

    /** Upcalls delivered to this vCPU, each one counted even when they coalesce. */
    public long upcallsDelivered() {
        return delivered.get();
    }

    /** Interrupts the guest took; at most one per burst of deliveries it had not yet taken. */
    public long upcallsHandled() {
        return handled.get();
    }

    public long kicks() {
        return kicks.get();
    }

    /** The route of the last upcall delivered, or null if none was. */
    public UpcallRoute lastRoute() {
        return lastRoute;
    }

    /** A level-triggered line asserted on this vCPU, with what tells whether it is still held. */
    private record Level(UpcallRoute route, BooleanSupplier held) {
    }

    private volatile Level level;

    void assertLevel(UpcallRoute route, BooleanSupplier held) {
        level = new Level(route, held);
        deliver(route);
    }

    /** After the handler of a level's interrupt returns: still held, so it is taken again; else released. */
    private void relatchIfLevelHeld(UpcallRoute taken) {
        Level l = level;
        if (l != null && l.route().equals(taken)) {
            if (l.held().getAsBoolean()) {
                latched.set(taken);
            } else {
                level = null;
            }
        }
    }

    void deliver(UpcallRoute route) {
        Objects.requireNonNull(route, "route");
        delivered.incrementAndGet();
        lastRoute = route;
        if (route instanceof UpcallRoute.None) {
            // No callback configured: Xen injects nothing, but a blocked vCPU still wakes to poll.
            wake.set(true);
        } else {
            latched.set(route);
        }
        wakeIfHalted();
    }

    void kick() {
        kicks.incrementAndGet();
        wake.set(true);
        wakeIfHalted();
    }

    void requestStop() {
        stop = true;
        LockSupport.unpark(thread);
    }

    private void wakeIfHalted() {
        // Reads halted after the latch was set: pairs with halt()'s publish-then-check.
        if (halted) {
            LockSupport.unpark(thread);
        }
    }

    // ---- lifecycle, driven by the backend ----

    void start(GuestCode guest) {
        code = guest;
        Thread t = Thread.ofPlatform()
                .name("dom" + backend.domid() + "-vcpu" + id)
                .daemon(true)
                .unstarted(this::runGuest);
        thread = t;
        t.start();
    }

    private void runGuest() {
        try {
            code.run(this);
        } catch (Throwable t) {
            failure = t;
            backend.crashed();
        }
    }

    /** Waits until {@code deadlineNanos} (System.nanoTime) for the guest code to return. */
    boolean awaitExit(long deadlineNanos) throws InterruptedException {
        Thread t = thread;
        if (t == null) {
            return true;
        }
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            t.join(Duration.ofNanos(left));
        }
        return !t.isAlive();
    }

    void interruptThread() {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
        }
    }

    Throwable failure() {
        return failure;
    }

    private void checkOwner() {
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("vCPU " + id + " instructions run only on its own thread");
        }
    }
}
