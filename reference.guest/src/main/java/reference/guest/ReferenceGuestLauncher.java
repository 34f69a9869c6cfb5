package reference.guest;

import java.io.PrintStream;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainProperties;
import xen.evtchn.api.host.GuestHost;

/**
 * Boots the reference guest on a {@link GuestHost}, on software vCPUs, once for each factory
 * configuration {@value GuestSettings#PID} (settings: {@link GuestSettings}). Its console and a
 * live event summary go to standard output ({@link GuestRun}).
 *
 * <p>While it runs, the domain is registered as a {@link DomainHandle} service with the properties
 * {@value DomainProperties#DOMAIN}=domid and {@value DomainProperties#GUEST}=reference. When the
 * guest has ended, the registration gains {@value DomainProperties#SHUTDOWN} (the reason's name:
 * poweroff, reboot, suspend, crash, watchdog), {@value DomainProperties#SHUTDOWN_CODE}
 * (SchedOp.SHUTDOWN_*, an Integer), {@value #TICKS_PROPERTY} (the ticks the guest handled, a long[]
 * by vCPU, this booter's own) and, if the guest failed rather than shut down,
 * {@value DomainProperties#FAILURE} (what failed; the reason is then crash): the api's
 * {@link DomainProperties}. A launcher that shares no classes with the bundles follows it with a
 * ServiceListener on {@code (xen.shutdown=*)}.
 *
 * <p>Deactivation (the configuration deleted or changed: a change boots the guest afresh) stops
 * the vCPUs, destroys the domain and unregisters the service. A bad configuration, or a domid in
 * use, fails this activation only, with a message naming the property; other domains run on.
 */
@Component(service = {}, immediate = true, configurationPid = GuestSettings.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ReferenceDomainMetatype.class, factory = true)
public final class ReferenceGuestLauncher {
    /** The ticks the guest handled, a long[] by vCPU: a service property of this booter's domains only. */
    public static final String TICKS_PROPERTY = "xen.guest.ticks";
    /** The value of {@value DomainProperties#GUEST} of this booter's domains. */
    public static final String REFERENCE = "reference";

    private final int domid;
    private final GuestRun run;
    private ServiceRegistration<DomainHandle> registration;

    @Activate
    public ReferenceGuestLauncher(@Reference GuestHost host, BundleContext context, Map<String, Object> configuration) {
        this(host, context, GuestSettings.from(configuration), System.out, System.err);
    }

    ReferenceGuestLauncher(GuestHost host, BundleContext context, GuestSettings settings, PrintStream out,
            PrintStream err) {
        domid = settings.domid();
        run = new GuestRun(host, domid, settings.config(), settings.xenVersion(), out, err, this::ended);
        synchronized (this) {
            run.start();
            try {
                registration = context.registerService(DomainHandle.class, run.domain(), properties(domid, null));
            } catch (RuntimeException e) {
                run.stop();
                throw e;
            }
        }
    }

    @Deactivate
    void deactivate() {
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
            registration.setProperties(properties(domid, outcome));
        } catch (IllegalStateException alreadyGone) {
            // deactivated meanwhile
        }
    }

    /** The service properties: running if {@code outcome} is null. */
    static Dictionary<String, Object> properties(int domid, GuestRun.Outcome outcome) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(DomainProperties.DOMAIN, domid);
        p.put(DomainProperties.GUEST, REFERENCE);
        if (outcome != null) {
            p.put(DomainProperties.SHUTDOWN, outcome.reasonName());
            p.put(DomainProperties.SHUTDOWN_CODE, outcome.reason());
            p.put(TICKS_PROPERTY, outcome.ticks());
            if (outcome.failure() != null) {
                p.put(DomainProperties.FAILURE, outcome.failure());
            }
        }
        return p;
    }
}
