package kvm.provider.software;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;

/**
 * A domain on software vCPUs, for hosts without /dev/kvm: off-heap guest RAM, one platform thread
 * per vCPU running Java {@link GuestCode}, upcalls latched as interrupts on the target vCPU.
 * {@link #SPECIAL_FRAMES} frames above the RAM asked for are the toolstack's special frames (the
 * console ring's among them), so they never overlap whatever layout the guest code keeps in its RAM.
 */
public final class SoftwareBackend implements VcpuBackend, AutoCloseable {
    /** The software TSC's frequency: it counts nanoseconds ({@link SoftwareVcpu#rdtsc()}). */
    public static final long TSC_HZ = 1_000_000_000L;

    public static final int MAX_VCPUS = 4096;
    /** Frames set aside above the guest's RAM for the toolstack ({@link SpecialFrames}). */
    public static final int SPECIAL_FRAMES = 4;
    /** How long close() waits for guest code to notice the stop request before interrupting it. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final int domid;
    private final HypercallHandler hypercalls;
    private final SoftwareGuestMemory memory;
    private final SpecialFrames special;
    private final SoftwareVcpu[] vcpus;
    private final AtomicLong droppedUpcalls = new AtomicLong();
    private boolean started;
    private boolean closed;
    private boolean failureReported;

    /**
     * @param ramBytes   the guest's RAM (special frames come above it)
     * @param hypercalls gets every hypercall the guest code makes, whatever its number
     */
    public SoftwareBackend(int domid, int vcpus, long ramBytes, HypercallHandler hypercalls) {
        if (!DomId.isReal(domid)) {
            throw new IllegalArgumentException("domid must be 0.." + (DomId.FIRST_RESERVED - 1) + ": got " + domid);
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException("vCPU count must be 1.." + MAX_VCPUS + ": got " + vcpus);
        }
        this.hypercalls = Objects.requireNonNull(hypercalls, "hypercalls");
        this.domid = domid;
        if (ramBytes <= 0 || ramBytes % GuestMemory.PAGE_SIZE != 0
                || ramBytes > SoftwareGuestMemory.MAX_BYTES - SPECIAL_FRAMES * GuestMemory.PAGE_SIZE) {
            throw new IllegalArgumentException("guest RAM must be a positive multiple of " + GuestMemory.PAGE_SIZE
                    + " bytes, at most " + (SoftwareGuestMemory.MAX_BYTES - SPECIAL_FRAMES * GuestMemory.PAGE_SIZE)
                    + ": got " + ramBytes);
        }
        this.memory = new SoftwareGuestMemory(ramBytes + SPECIAL_FRAMES * GuestMemory.PAGE_SIZE);
        this.special = new SpecialFrames(ramBytes / GuestMemory.PAGE_SIZE, SPECIAL_FRAMES);
        this.vcpus = new SoftwareVcpu[vcpus];
        for (int i = 0; i < vcpus; i++) {
            this.vcpus[i] = new SoftwareVcpu(this, i);
        }
    }

    public int domid() {
        return domid;
    }

    @Override
    public long tscHz() {
        return TSC_HZ;
    }

    /** The software TSC: nanoseconds on CLOCK_MONOTONIC, what {@link SoftwareVcpu#rdtsc()} reads. */
    @Override
    public long tsc() {
        return System.nanoTime();
    }

    @Override
    public int vcpuCount() {
        return vcpus.length;
    }

    @Override
    public SoftwareGuestMemory memory() {
        return memory;
    }

    @Override
    public SpecialFrames specialFrames() {
        return special;
    }

    public SoftwareVcpu vcpu(int n) {
        if (!vcpuExists(n)) {
            throw new IllegalArgumentException("no vCPU " + n + ": dom" + domid + " has " + vcpus.length);
        }
        return vcpus[n];
    }

    /** Latches the upcall on {@code vcpu} and wakes it if halted; never blocks, never throws for an unknown vCPU. */
    @Override
    public void deliverUpcall(int vcpu, UpcallRoute route) {
        if (vcpuExists(vcpu)) {
            vcpus[vcpu].deliver(route);
        } else {
            droppedUpcalls.incrementAndGet();
        }
    }

    /** vCPU 0 takes the level's interrupt again after each handler while {@code held} is true. */
    @Override
    public void assertLevel(UpcallRoute route, BooleanSupplier held) {
        vcpus[0].assertLevel(route, held);
    }

    @Override
    public void kick(int vcpu) {
        if (vcpuExists(vcpu)) {
            vcpus[vcpu].kick();
        } else {
            droppedUpcalls.incrementAndGet();
        }
    }

    /** Upcalls and kicks addressed to vCPUs that do not exist. */
    public long droppedUpcalls() {
        return droppedUpcalls.get();
    }

    /** Starts {@code code} on every vCPU, each on its own platform thread. Once only. */
    public synchronized void start(GuestCode code) {
        Objects.requireNonNull(code, "code");
        if (closed || started) {
            throw new IllegalStateException("dom" + domid + (closed ? " is closed" : " is already started"));
        }
        started = true;
        for (SoftwareVcpu v : vcpus) {
            v.start(code);
        }
    }

    /**
     * Waits up to {@code timeout} for the guest code on every vCPU to return.
     *
     * @return true if all returned, false if some still run
     * @throws VcpuFailure if guest code threw, naming the first such vCPU (others suppressed);
     *         reported even if other vCPUs are still running
     */
    public boolean join(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean done = true;
        for (SoftwareVcpu v : vcpus) {
            done &= v.awaitExit(deadline);
        }
        VcpuFailure failure = failures();
        if (failure != null) {
            synchronized (this) {
                failureReported = true;
            }
            throw failure;
        }
        return done;
    }

    /**
     * Asks every vCPU to stop (waking halted ones), waits for them, then frees guest RAM.
     *
     * @throws VcpuFailure if guest code threw and no {@link #join} reported it
     * @throws IllegalStateException if guest code ignored the stop request and a thread interrupt
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        requestStop();
        boolean stopped;
        try {
            stopped = awaitStop();
        } catch (InterruptedException e) {
            // Free the RAM anyway; the caller's thread keeps its interrupt status.
            Thread.currentThread().interrupt();
            stopped = true;
        }
        // Safe even if a thread still runs: its later accesses to RAM throw instead of touching freed memory.
        memory.close();
        if (!stopped) {
            throw new IllegalStateException("dom" + domid + ": guest code ignored the stop request");
        }
        VcpuFailure failure = failures();
        boolean report;
        synchronized (this) {
            report = !failureReported;
        }
        if (report && failure != null) {
            throw failure;
        }
    }

    private boolean awaitStop() throws InterruptedException {
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        boolean stopped = true;
        for (SoftwareVcpu v : vcpus) {
            if (!v.awaitExit(deadline)) {
                // Maybe blocked in a host call: an interrupt also makes halt() return.
                v.interruptThread();
                stopped &= v.awaitExit(System.nanoTime() + CLOSE_GRACE.toNanos() / 5);
            }
        }
        return stopped;
    }

    HypercallHandler hypercalls() {
        return hypercalls;
    }

    /** Guest code threw on one vCPU: stop the others, as Xen crashes the whole domain. */
    void crashed() {
        requestStop();
    }

    private void requestStop() {
        for (SoftwareVcpu v : vcpus) {
            v.requestStop();
        }
    }

    private VcpuFailure failures() {
        VcpuFailure first = null;
        for (SoftwareVcpu v : vcpus) {
            Throwable t = v.failure();
            if (t == null) {
                continue;
            }
            VcpuFailure f = new VcpuFailure(domid, v.id(), t);
            if (first == null) {
                first = f;
            } else {
                first.addSuppressed(f);
            }
        }
        return first;
    }
}
