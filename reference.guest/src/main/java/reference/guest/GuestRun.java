package reference.guest;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.software.VcpuFailure;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * One run of the reference guest as a host shows it: a domain on software vCPUs and the host's
 * hypercalls, its console lines on {@code out} prefixed "[dom<i>N</i>] ", a live
 * {@link EventSummary} line on {@code out} once a second, then the {@link Outcome}, passed to
 * {@code ended} once the guest has stopped: its shutdown reason, or a crash with the failure
 * (a vCPU's guest code threw, e.g. a panic on a failed hypercall) also printed on {@code err}.
 * A monitor thread (a daemon) waits for the vCPUs; {@link #stop()} ends everything.
 */
final class GuestRun {
    /** How long vCPUs may go on after their domain shut down (Xen pauses them) before the run ends anyway. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);
    private static final long SECOND = 1_000_000_000L;
    /** How often the monitor looks for a shutdown while vCPUs still run. */
    private static final long POLL = 100_000_000L;

    /**
     * How a run ended.
     *
     * @param reason  SchedOp.SHUTDOWN_* (a failed guest counts as SHUTDOWN_CRASH)
     * @param failure what failed, or null if the guest shut down by itself
     */
    record Outcome(int domid, int reason, String failure, long[] ticks) {
        String reasonName() {
            return SchedOp.shutdownReason(reason);
        }
    }

    private final GuestHost host;
    private final int domid;
    private final GuestConfig config;
    private final String xenVersion;
    private final PrintStream out;
    private final PrintStream err;
    private final Consumer<Outcome> ended;
    private SoftwareBackend backend;
    private DomainHandle domain;
    private ReferenceGuest guest;
    private Thread monitor;
    private long started;
    private boolean stopped;

    /** @param xenVersion the Xen the guest sees ("major.minor"), or null for the host's default */
    GuestRun(GuestHost host, int domid, GuestConfig config, String xenVersion, PrintStream out, PrintStream err,
            Consumer<Outcome> ended) {
        this.host = Objects.requireNonNull(host, "host");
        this.domid = domid;
        this.config = Objects.requireNonNull(config, "config");
        this.xenVersion = xenVersion;
        this.out = Objects.requireNonNull(out, "out");
        this.err = Objects.requireNonNull(err, "err");
        this.ended = Objects.requireNonNull(ended, "ended");
    }

    /** Creates the vCPUs and the domain, starts the guest and the monitor. Once. */
    synchronized void start() {
        if (backend != null || stopped) {
            throw new IllegalStateException("dom" + domid + ": a run starts once");
        }
        String prefix = "[dom" + domid + "] ";
        backend = new SoftwareBackend(domid, config.vcpus(), config.ramBytes(), host.hypercalls());
        try {
            domain = host.createDomain(domid, backend, line -> out.println(prefix + line), xenVersion);
            started = System.nanoTime();
            guest = ReferenceGuest.start(backend, config);
        } catch (RuntimeException e) {
            cleanUp();
            throw e;
        }
        monitor = Thread.ofPlatform().name("dom" + domid + "-monitor").daemon(true).unstarted(this::monitor);
        monitor.start();
    }

    /** The domain, once started. */
    synchronized DomainHandle domain() {
        return domain;
    }

    /**
     * Stops the monitor (no outcome is reported after this returns, unless it was already on its
     * way), the vCPUs, and destroys the domain. Idempotent.
     */
    void stop() {
        Thread m;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            m = monitor;
        }
        if (m != null && m != Thread.currentThread()) {
            m.interrupt();
            try {
                m.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            cleanUp();
        }
    }

    /**
     * Destroys the domain (its timers stop; closing its ports touches guest memory, which is
     * still there), then closes the backend: its vCPUs stop and guest RAM is freed.
     */
    private void cleanUp() {
        if (domain != null) {
            host.destroyDomain(domid);
        }
        if (backend != null) {
            try {
                backend.close();
            } catch (VcpuFailure e) {
                // A guest still running when its domain went away fails its next hypercall: it is
                // going anyway (a failure the monitor had reported is not thrown again).
            } catch (IllegalStateException e) {
                err.println("dom" + domid + ": while stopping: " + e.getMessage());
            }
        }
    }

    private void monitor() {
        Outcome outcome;
        try {
            outcome = awaitEnd();
        } catch (InterruptedException e) {
            return; // stop()
        }
        out.println(EventSummary.line(domid, EventSummary.end(System.nanoTime() - started), guest.stats(), timerTicks()));
        if (outcome.failure() != null) {
            err.println("dom" + domid + " crashed: " + outcome.failure());
        }
        synchronized (this) {
            if (stopped) {
                return;
            }
        }
        ended.accept(outcome);
    }

    /** Prints the summary every second until every vCPU has returned or the domain shut down. */
    private Outcome awaitEnd() throws InterruptedException {
        long nextLine = started + SECOND;
        while (true) {
            long now = System.nanoTime();
            long wait = Math.max(0, Math.min(POLL, nextLine - now));
            boolean done;
            try {
                done = backend.join(Duration.ofNanos(wait));
            } catch (VcpuFailure f) {
                return new Outcome(domid, SchedOp.SHUTDOWN_CRASH, describe(f), guestTicks());
            }
            if (!done && domain.shutdownReason() != DomainHandle.RUNNING) {
                // Shut down, but a vCPU still runs guest code: give it a moment, then end anyway.
                try {
                    backend.join(SHUTDOWN_GRACE);
                } catch (VcpuFailure f) {
                    return new Outcome(domid, SchedOp.SHUTDOWN_CRASH, describe(f), guestTicks());
                }
                done = true;
            }
            if (done) {
                return outcome();
            }
            now = System.nanoTime();
            if (now - nextLine >= 0) {
                out.println(EventSummary.line(domid, EventSummary.seconds((now - started) / SECOND), guest.stats(),
                        timerTicks()));
                nextLine += SECOND * Math.max(1, (now - nextLine) / SECOND + 1);
            }
        }
    }

    /** Every vCPU has returned (or the domain shut down): how it ended. */
    private Outcome outcome() {
        var error = guest.lastHypercallError();
        if (error.isPresent()) {
            return new Outcome(domid, SchedOp.SHUTDOWN_CRASH, error.get() + " (the guest panics on a failed hypercall)",
                    guestTicks());
        }
        int reason = domain.shutdownReason();
        if (reason == DomainHandle.RUNNING) {
            return new Outcome(domid, SchedOp.SHUTDOWN_CRASH, "every vCPU stopped without SCHEDOP_shutdown", guestTicks());
        }
        return new Outcome(domid, reason, null, guestTicks());
    }

    /** The ticks the guest handled, by vCPU. */
    private long[] guestTicks() {
        var stats = guest.stats();
        long[] ticks = new long[stats.size()];
        for (int v = 0; v < ticks.length; v++) {
            ticks[v] = stats.get(v).ticks();
        }
        return ticks;
    }

    private long[] timerTicks() {
        long[] ticks = new long[config.vcpus()];
        for (int v = 0; v < ticks.length; v++) {
            ticks[v] = domain.timerTicks(v);
        }
        return ticks;
    }

    /** The guest's panic message (it names the vCPU), or the failure's own message for anything else. */
    static String describe(VcpuFailure f) {
        return f.getCause() instanceof GuestPanic panic ? panic.getMessage() : f.getMessage();
    }
}
