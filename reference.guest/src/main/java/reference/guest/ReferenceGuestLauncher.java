package reference.guest;

import java.io.PrintStream;
import java.util.Dictionary;
import java.util.Hashtable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * Boots the reference guest on a {@link GuestHost} when the framework property
 * {@code xen.guest} is "reference" (settings: {@link GuestSettings}), as domain
 * {@value #DOMID} on software vCPUs. Its console and a live event summary go to standard
 * output ({@link GuestRun}).
 *
 * <p>While it runs, the domain is registered as a {@link DomainHandle} service with the properties
 * {@value #DOMAIN_PROPERTY}={@value #DOMID} and {@value #GUEST_PROPERTY}=reference. When the guest
 * has ended, the registration gains {@value #SHUTDOWN_PROPERTY} (the reason's name: poweroff,
 * reboot, suspend, crash, watchdog), {@value #SHUTDOWN_CODE_PROPERTY} (SchedOp.SHUTDOWN_*, an
 * Integer) and, if the guest failed rather than shut down, {@value #FAILURE_PROPERTY} (what
 * failed; the reason is then crash). A launcher that shares no classes with the bundles follows
 * it with a ServiceListener on {@code (xen.shutdown=*)}.
 *
 * <p>Deactivation stops the vCPUs, destroys the domain and unregisters the service. Bad settings
 * fail the activation with a message naming the property.
 */
@Component(service = {}, immediate = true)
public final class ReferenceGuestLauncher {
    public static final int DOMID = 1;
    public static final String DOMAIN_PROPERTY = "xen.domain";
    public static final String GUEST_PROPERTY = "xen.guest";
    public static final String SHUTDOWN_PROPERTY = "xen.shutdown";
    public static final String SHUTDOWN_CODE_PROPERTY = "xen.shutdown.code";
    public static final String FAILURE_PROPERTY = "xen.failure";

    private final GuestRun run;
    private ServiceRegistration<DomainHandle> registration;

    @Activate
    public ReferenceGuestLauncher(@Reference GuestHost host, BundleContext context) {
        this(host, context, GuestSettings.from(context::getProperty), System.out, System.err);
    }

    ReferenceGuestLauncher(GuestHost host, BundleContext context, GuestSettings settings, PrintStream out,
            PrintStream err) {
        if (!settings.boot()) {
            run = null;
            return;
        }
        run = new GuestRun(host, DOMID, settings.config(), out, err, this::ended);
        synchronized (this) {
            run.start();
            try {
                registration = context.registerService(DomainHandle.class, run.domain(), properties(null));
            } catch (RuntimeException e) {
                run.stop();
                throw e;
            }
        }
    }

    @Deactivate
    void deactivate() {
        if (run == null) {
            return;
        }
        run.stop();
        synchronized (this) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // unregistered with the bundle
            }
        }
    }

    /** The monitor thread: the guest has ended. */
    private synchronized void ended(GuestRun.Outcome outcome) {
        if (registration == null) {
            return; // the registration failed and the run is being stopped
        }
        try {
            registration.setProperties(properties(outcome));
        } catch (IllegalStateException alreadyGone) {
            // deactivated meanwhile
        }
    }

    /** The service properties: running if {@code outcome} is null. */
    static Dictionary<String, Object> properties(GuestRun.Outcome outcome) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(DOMAIN_PROPERTY, DOMID);
        p.put(GUEST_PROPERTY, GuestSettings.REFERENCE);
        if (outcome != null) {
            p.put(SHUTDOWN_PROPERTY, outcome.reasonName());
            p.put(SHUTDOWN_CODE_PROPERTY, outcome.reason());
            if (outcome.failure() != null) {
                p.put(FAILURE_PROPERTY, outcome.failure());
            }
        }
        return p;
    }
}
