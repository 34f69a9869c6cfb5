package xen.store.control;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreNodes;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.evtchn.api.store.XenStoreWatch;

/**
 * Asks a guest to power off or reboot as Xen's toolstack does, through the host's XenStore as
 * dom0: the request goes into /local/domain/D/control/shutdown, and the guest's PV drivers (Linux's
 * drivers/xen/manage.c) watch that node, acknowledge a request they know by writing the empty
 * string back in a transaction, and then shut down (SCHEDOP_shutdown, which the host records as
 * the domain's shutdown reason).
 * <p>
 * libxl_domain_shutdown writes and returns; only libxl's suspend waits for the acknowledgement. This
 * waits, bounded, by libxl's suspend rules: any value other than the request counts as the
 * acknowledgement, and without one in time the request is withdrawn (emptied in a transaction that
 * first re-reads the node, so an acknowledgement at the last moment still counts), so that a guest
 * whose drivers come up later does not act on a request its caller was told had failed.
 */
public final class ShutdownControl {
    /** The longest wait a caller may ask for. */
    public static final Duration TIMEOUT_MAX = Duration.ofMinutes(1);
    /** How often the node is read again even without a watch event (the host drops events beyond its queue). */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Conflicting commits tolerated before giving up (each one means the node or the home changed meanwhile). */
    private static final int COMMIT_ATTEMPTS = 16;

    /** How a request ended. */
    public enum Answer {
        /** The guest took the request: the node no longer holds it. */
        ACKNOWLEDGED,
        /** Not taken in time (no PV control, or not yet): the request was withdrawn. */
        NOT_ACKNOWLEDGED,
        /** The node went while waiting: the domain was destroyed (perhaps after acknowledging). */
        DOMAIN_GONE
    }

    /** A request's end and how long it was waited for. */
    public record Outcome(int domid, ShutdownRequest request, Answer answer, Duration waited) {
    }

    private final XenStore store;

    public ShutdownControl(XenStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /** The node the toolstack writes and the guest watches (libxl__domain_pvcontrol_xspath). */
    public static String path(int domid) {
        return home(domid) + "/control/shutdown";
    }

    private static String home(int domid) {
        return "/local/domain/" + domid;
    }

    /**
     * Writes {@code request} into the guest's control/shutdown and waits up to {@code timeout} for
     * the guest to take it. Refuses domain 0 (the host) and reserved ids (IllegalArgumentException),
     * and a domain without a home in the store ({@link UnknownDomainException}); a store that
     * refuses otherwise throws its XenStoreException. Interrupted, it withdraws the request as on
     * a timeout and returns with the thread's interrupt status set.
     */
    public Outcome request(int domid, ShutdownRequest request, Duration timeout) {
        if (domid == DomId.HOST || !DomId.isReal(domid)) {
            throw new IllegalArgumentException("domain " + domid + " cannot be asked: "
                    + (domid == DomId.HOST ? "domain 0 is the host" : "a reserved id"));
        }
        Objects.requireNonNull(request, "request");
        if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(TIMEOUT_MAX) > 0) {
            throw new IllegalArgumentException("the timeout must be above 0 and at most " + TIMEOUT_MAX.toSeconds()
                    + " s: got " + timeout.toMillis() + " ms");
        }
        String path = path(domid);
        byte[] asked = request.bytes();
        Semaphore changed = new Semaphore(0);
        long start = System.nanoTime();
        // Watched first, so that no change after the write goes unheard.
        try (XenStoreWatch watch = store.watch(path, "xen.store-shutdown", (p, t) -> changed.release())) {
            write(domid, path, asked);
            long deadline = start + timeout.toNanos();
            boolean interrupted = false;
            while (true) {
                byte[] now = readOrNull(path);
                if (now == null) {
                    return outcome(domid, request, Answer.DOMAIN_GONE, start);
                }
                if (!Arrays.equals(now, asked)) {
                    return outcome(domid, request, Answer.ACKNOWLEDGED, start);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || interrupted) {
                    break;
                }
                try {
                    changed.tryAcquire(Math.min(left, POLL_NANOS), TimeUnit.NANOSECONDS);
                    changed.drainPermits();
                } catch (InterruptedException e) {
                    interrupted = true; // one more read, then withdraw
                }
            }
            Answer answer = withdraw(path, asked);
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return outcome(domid, request, answer, start);
        }
    }

    private static Outcome outcome(int domid, ShutdownRequest request, Answer answer, long start) {
        return new Outcome(domid, request, answer, Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The request written in a transaction that also reads the domain's home, so that a domain
     * destroyed meanwhile gets no stray node (a plain write would create its parents again).
     */
    private void write(int domid, String path, byte[] asked) {
        for (int attempt = 1; ; attempt++) {
            try (XenStoreTransaction tx = store.transactionStart()) {
                if (readOrNull(tx, home(domid)) == null) {
                    throw new UnknownDomainException(domid);
                }
                tx.write(path, asked);
                tx.commit();
                return;
            } catch (XenStoreException e) {
                if (!e.error().equals("EAGAIN") || attempt == COMMIT_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** Empties the node unless the guest took the request after all (libxl's cancel of a suspend). */
    private Answer withdraw(String path, byte[] asked) {
        for (int attempt = 1; ; attempt++) {
            try (XenStoreTransaction tx = store.transactionStart()) {
                byte[] now = readOrNull(tx, path);
                if (now == null) {
                    return Answer.DOMAIN_GONE;
                }
                if (!Arrays.equals(now, asked)) {
                    return Answer.ACKNOWLEDGED; // at the last moment
                }
                tx.write(path, new byte[0]);
                tx.commit();
                return Answer.NOT_ACKNOWLEDGED;
            } catch (XenStoreException e) {
                if (!e.error().equals("EAGAIN") || attempt == COMMIT_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private byte[] readOrNull(String path) {
        return readOrNull(store, path);
    }

    private static byte[] readOrNull(XenStoreNodes nodes, String path) {
        try {
            return nodes.read(path);
        } catch (XenStoreException e) {
            if (e.error().equals("ENOENT")) {
                return null;
            }
            throw e;
        }
    }
}
