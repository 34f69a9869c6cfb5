package launcher;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.framework.AllServiceListener;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceReference;
import xen.evtchn.api.host.DomainProperties;

/**
 * Follows the guest's domain through its service ({@link Main.Options#guestFilter()}) by its
 * properties alone ({@link DomainProperties}, whose constants javac inlines): the launcher cannot
 * load the bundles' classes, so it never gets the service object. An AllServiceListener, so that no class-space check hides the events from the system
 * bundle. Add it before the bundles start.
 */
final class GuestWatch implements AllServiceListener {
    /**
     * How the guest ended.
     *
     * @param reason  the shutdown reason's name (poweroff, crash, ...), or null if the service went
     *                away before the guest shut down
     * @param code    SchedOp.SHUTDOWN_*, -1 if unknown
     * @param failure what failed if the guest failed rather than shut down by itself, else null
     */
    record End(int domid, String reason, int code, String failure) {
    }

    private final CountDownLatch started = new CountDownLatch(1);
    private volatile ServiceReference<?> reference;
    private final CompletableFuture<End> end = new CompletableFuture<>();

    /** Follows the services that match {@code filter}, e.g. {@code (&(xen.domain=*)(xen.guest=kernel))}. */
    GuestWatch(BundleContext context, String filter) {
        try {
            context.addServiceListener(this, filter);
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void serviceChanged(ServiceEvent event) {
        ServiceReference<?> ref = event.getServiceReference();
        int domid = intProperty(ref, DomainProperties.DOMAIN);
        switch (event.getType()) {
            case ServiceEvent.REGISTERED, ServiceEvent.MODIFIED -> {
                reference = ref;
                started.countDown();
                End e = end(ref, domid);
                if (e != null) {
                    end.complete(e);
                }
            }
            case ServiceEvent.UNREGISTERING, ServiceEvent.MODIFIED_ENDMATCH -> {
                started.countDown();
                end.complete(new End(domid, null, -1, null));
            }
            default -> {
                // nothing else is sent to a service listener
            }
        }
    }

    /** The end the properties tell, or null while the guest runs. */
    static End end(ServiceReference<?> ref, int domid) {
        Object reason = ref.getProperty(DomainProperties.SHUTDOWN);
        if (reason == null) {
            return null;
        }
        Object failure = ref.getProperty(DomainProperties.FAILURE);
        return new End(domid, reason.toString(), intProperty(ref, DomainProperties.SHUTDOWN_CODE),
                failure == null ? null : failure.toString());
    }

    private static int intProperty(ServiceReference<?> ref, String name) {
        Object value = ref.getProperty(name);
        if (value instanceof Number n) {
            return n.intValue();
        }
        try {
            return value == null ? -1 : Integer.parseInt(value.toString().strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The guest's domain service, once {@link #awaitStarted} said it was registered. */
    ServiceReference<?> reference() {
        return reference;
    }

    /** Waits until the guest's domain has been registered; false if it was not within {@code timeout}. */
    boolean awaitStarted(Duration timeout) throws InterruptedException {
        return started.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Waits for the guest's end; null if it did not come within {@code timeout} (null: no limit). */
    End awaitEnd(Duration timeout) throws InterruptedException {
        try {
            return timeout == null ? end.get() : end.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new AssertionError("never completed exceptionally", e);
        }
    }
}
