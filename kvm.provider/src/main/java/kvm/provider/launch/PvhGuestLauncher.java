package kvm.provider.launch;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import kvm.provider.boot.PvhImage;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.xen.KvmGuest;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainProperties;
import xen.evtchn.api.host.GuestHost;

/**
 * Boots a PVH kernel image on KVM ({@link KvmGuest}) as a domain of a {@link GuestHost}, once for
 * each factory configuration {@value PvhGuestSettings#PID} (settings: {@link PvhGuestSettings}).
 * Its console lines go to standard output prefixed "[dom<i>N</i>] ", the host's messages about
 * its VM (which KVM path it takes, guest faults) to standard error prefixed "kvm: ".
 *
 * <p>While it runs, the domain is registered as a {@link DomainHandle} service with the properties
 * {@value DomainProperties#DOMAIN}=domid and {@value DomainProperties#GUEST}=kernel. When the
 * guest has ended, a monitor thread (a daemon) adds {@value DomainProperties#SHUTDOWN} (the
 * reason's name: poweroff, reboot, suspend, crash, watchdog), {@value DomainProperties#SHUTDOWN_CODE}
 * (SchedOp.SHUTDOWN_*, an Integer) and, if the guest failed rather than shut down (a triple fault,
 * every vCPU down, ...), {@value DomainProperties#FAILURE} (the host's account; the reason is then
 * crash): the api's {@link DomainProperties}, as reference.guest's launcher component registers
 * them, so that a launcher follows either guest the same way, with a ServiceListener on
 * {@code (xen.shutdown=*)}.
 *
 * <p>The domain's disks ({@value PvhGuestSettings#DISK}, checked with the settings) and xen-bus
 * consoles ({@value PvhGuestSettings#CONSOLES}) are added through the host's {@link XenBus} service
 * (bundle xen.bus) after the domain is created and before its vCPUs run ({@link GuestDevices});
 * deactivation removes them before the domain goes. The bus is looked up when the guest boots, not
 * referenced by DS: a kernel without devices needs no bus, and a bus that is updated later must
 * not take the running guest with it.
 *
 * <p>Deactivation stops the vCPUs, destroys the domain, frees the VM and unregisters the service.
 * Bad settings (a missing or unreadable image, one that is not PVH, bad numbers, a bad disk, or
 * devices without a XenBus) and a host where /dev/kvm is unusable fail the activation with a message
 * naming the property or the file, before a domain is made.
 */
@Component(service = {}, immediate = true, configurationPid = PvhGuestSettings.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = KernelDomainMetatype.class, factory = true)
public final class PvhGuestLauncher {
    /** The value of {@value DomainProperties#GUEST} of this booter's domains. */
    public static final String KERNEL_GUEST = "kernel";
    /** How long the monitor waits in one go (it is interrupted to stop). */
    private static final Duration MONITOR_WAIT = Duration.ofHours(1);

    private final int domid;
    private final GuestDevices devices;
    private final KvmGuest guest;
    private final PrintStream err;
    private Thread monitor;
    private ServiceRegistration<DomainHandle> registration;
    private boolean stopped;

    @Activate
    public PvhGuestLauncher(@Reference GuestHost host, BundleContext context, Map<String, Object> configuration) {
        this(host, context, PvhGuestSettings.from(configuration), KvmSystem::unavailableReason, () -> bus(context),
                System.out, System.err);
    }

    /** The host's XenBus of the highest ranking, or null if none is registered. */
    private static XenBus bus(BundleContext context) {
        ServiceReference<XenBus> ref = context.getServiceReference(XenBus.class);
        return ref == null ? null : context.getService(ref); // released with this bundle's context
    }

    /**
     * @param kvmUnavailable why /dev/kvm cannot be used, or null if it can
     *                       ({@link KvmSystem#unavailableReason()})
     * @param bus            the host's XenBus, or null if there is none; asked only if there are devices (disks, consoles)
     */
    PvhGuestLauncher(GuestHost host, BundleContext context, PvhGuestSettings settings,
            Supplier<String> kvmUnavailable, Supplier<XenBus> bus, PrintStream out, PrintStream err) {
        this.err = err;
        this.domid = settings.domid();
        PvhImage image = settings.image();
        devices = new GuestDevices(settings.disks(), settings.consoles(), GuestDevices.any(settings) ? bus.get() : null);
        String why = kvmUnavailable.get();
        if (why != null) {
            throw new IllegalStateException(PvhGuestSettings.PID + ": a kernel domain needs KVM, which is not usable here: "
                    + why);
        }
        byte[] initrd = settings.initrdBytes();
        String prefix = "[dom" + domid + "] ";
        Consumer<String> console = settings.consoleLines() ? line -> out.println(prefix + line) : line -> { };
        try {
            guest = KvmGuest.boot(host, domid, settings.config(line -> err.println("kvm: " + line), image), image,
                    settings.cmdline(), initrd, settings.xenVersion(), console, devices::add);
        } catch (RuntimeException e) {
            throw new IllegalStateException(PvhGuestSettings.PID + ": cannot boot " + settings.kernel() + " with "
                    + settings.vcpus() + " vCPU(s) and " + (settings.ramBytes() >> 20) + " MiB on KVM: "
                    + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
        synchronized (this) {
            try {
                registration = context.registerService(DomainHandle.class, guest.domain(), properties(domid, null));
            } catch (RuntimeException e) {
                guest.close();
                throw e;
            }
            // After the registration: a guest that ends at once updates it, never misses it.
            monitor = Thread.ofPlatform().name("dom" + domid + "-monitor").daemon(true).unstarted(this::monitor);
            monitor.start();
        }
    }

    @Deactivate
    void deactivate() {
        Thread m;
        synchronized (this) {
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
        devices.remove(domid, line -> err.println(line));
        try {
            guest.close();
        } catch (IllegalStateException e) {
            err.println("dom" + domid + ": while stopping: " + e.getMessage());
        }
        synchronized (this) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // unregistered with the bundle
            }
        }
    }

    /** The guest (for tests). */
    KvmGuest guest() {
        return guest;
    }

    private void monitor() {
        KvmGuest.Outcome outcome;
        try {
            do {
                outcome = guest.await(MONITOR_WAIT);
            } while (outcome == null);
        } catch (InterruptedException e) {
            return; // deactivate()
        }
        String failure = outcome.failure();
        if (failure != null && !failure.equals(guest.backend().failure().orElse(null))) {
            // The backend's own failures went to the log already.
            err.println("dom" + domid + " crashed: " + failure);
        }
        ended(outcome);
    }

    /** The monitor thread: the guest has ended. */
    private synchronized void ended(KvmGuest.Outcome outcome) {
        if (stopped) {
            return;
        }
        try {
            registration.setProperties(properties(domid, outcome));
        } catch (IllegalStateException alreadyGone) {
            // unregistered with the bundle meanwhile
        }
    }

    /** The service properties: running if {@code outcome} is null. */
    static Dictionary<String, Object> properties(int domid, KvmGuest.Outcome outcome) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(DomainProperties.DOMAIN, domid);
        p.put(DomainProperties.GUEST, KERNEL_GUEST);
        if (outcome != null) {
            p.put(DomainProperties.SHUTDOWN, outcome.reasonName());
            p.put(DomainProperties.SHUTDOWN_CODE, outcome.reason());
            if (outcome.failure() != null) {
                p.put(DomainProperties.FAILURE, outcome.failure());
            }
        }
        return p;
    }
}
