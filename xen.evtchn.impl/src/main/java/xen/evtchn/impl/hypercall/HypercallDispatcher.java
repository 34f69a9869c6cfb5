package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.EPERM;

import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;

/**
 * The entry point of every hypercall: a table of handlers by hypercall number (a whiteboard, so
 * a bundle can add one at run time and take it away). A call from CPL &gt; 0 answers -EPERM before
 * any handler sees it; a call that names a vCPU its domain does not have (a backend's mistake, not
 * the guest's) -EINVAL; a number with no handler -ENOSYS. The lookup is one array read.
 * <p>
 * Whatever a handler does, no exception leaves here: a RuntimeException from any family (a bug the
 * guest ran into) becomes an errno for the guest and a line in the host's log ({@link HandlerFailures}).
 */
public final class HypercallDispatcher implements HypercallHandler {
    /** Hypercall numbers are below this on x86 (NR_hypercalls). */
    public static final int MAX_HYPERCALLS = 64;

    /** Whether a call's domain and vCPU may make it: false only for a vCPU its domain does not have. */
    @FunctionalInterface
    public interface Callers {
        boolean mayCall(int domid, int vcpu);
    }

    private final AtomicReferenceArray<HypercallHandler> handlers = new AtomicReferenceArray<>(MAX_HYPERCALLS);
    private final Callers callers;
    private final HandlerFailures failures;

    /** A dispatcher that takes every caller as given. */
    public HypercallDispatcher() {
        this((domid, vcpu) -> true);
    }

    public HypercallDispatcher(Callers callers) {
        this(callers, new HandlerFailures(HandlerFailures.STDERR));
    }

    public HypercallDispatcher(Callers callers, HandlerFailures failures) {
        this.callers = callers;
        this.failures = failures;
    }

    /**
     * Installs {@code handler} for {@code number}. Throws IllegalArgumentException for a number
     * out of range and IllegalStateException if another handler holds it.
     */
    public void register(int number, HypercallHandler handler) {
        checkNumber(number);
        if (!handlers.compareAndSet(number, null, handler)) {
            throw new IllegalStateException("hypercall " + number + " already has a handler: " + handlers.get(number));
        }
    }

    /** Removes {@code handler} if it is the one for {@code number}; true if it was. */
    public boolean unregister(int number, HypercallHandler handler) {
        checkNumber(number);
        return handlers.compareAndSet(number, handler, null);
    }

    /** The handler for {@code number}, or null. */
    public HypercallHandler handler(int number) {
        return number >= 0 && number < MAX_HYPERCALLS ? handlers.get(number) : null;
    }

    @Override
    public long hypercall(HypercallContext call) {
        if (call.cpl() > 0) {
            return -EPERM;
        }
        if (!callers.mayCall(call.domid(), call.vcpu())) {
            return -EINVAL;
        }
        HypercallHandler h = handler(call.number());
        if (h == null) {
            return -ENOSYS;
        }
        try {
            return h.hypercall(call);
        } catch (RuntimeException e) {
            return failures.failed(call, e);
        }
    }

    private static void checkNumber(int number) {
        if (number < 0 || number >= MAX_HYPERCALLS) {
            throw new IllegalArgumentException("hypercall numbers are 0.." + (MAX_HYPERCALLS - 1) + ", not " + number);
        }
    }
}
