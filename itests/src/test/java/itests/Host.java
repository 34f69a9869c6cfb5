package itests;

import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;
import xen.evtchn.api.host.DomainProperties;

/** What the tests do with the running framework: services, configurations, bundles, waiting. */
final class Host {
    /** Long enough for anything that should happen on a loaded 2-core machine. */
    static final long WAIT_MS = 60_000;

    final BundleContext context = FrameworkUtil.getBundle(Host.class).getBundleContext();

    /** The service, waiting for it. */
    <T> T service(Class<T> type) {
        ServiceTracker<T, T> tracker = new ServiceTracker<>(context, type, null);
        tracker.open();
        try {
            T s = tracker.waitForService(WAIT_MS);
            assertNotNull("no " + type.getName() + " service within " + WAIT_MS + " ms", s);
            return s;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Writes factory configuration {@code pid~name} (any bundle may use it); returns it, for deletion. */
    Configuration configure(String pid, String name, Map<String, Object> properties) throws IOException {
        Configuration c = service(ConfigurationAdmin.class).getFactoryConfiguration(pid, name, "?");
        c.update(new Hashtable<>(properties));
        return c;
    }

    /** Turns the host's per-port counting on (configuration xen.host, stats=true); the ping-pongs read it. */
    void countEvents() throws IOException {
        Configuration c = service(ConfigurationAdmin.class).getConfiguration("xen.host", "?");
        c.update(new Hashtable<>(Map.of("stats", true)));
        xen.evtchn.api.host.GuestHost host = service(xen.evtchn.api.host.GuestHost.class);
        await("the host to count events", host::countsEvents);
    }

    /** Boots a reference guest domain; returns its configuration. */
    Configuration bootReference(int domid, int vcpus, int hz, int seconds) throws IOException {
        return configure("xen.domain.reference", "dom" + domid,
                Map.of("domid", domid, "vcpus", vcpus, "hz", hz, "seconds", seconds, "ipis", true));
    }

    /** The DomainHandle service of {@code domid}, waiting for it. */
    ServiceReference<?> domainService(int domid) {
        ServiceReference<?>[] refs = new ServiceReference<?>[1];
        await("dom" + domid + "'s DomainHandle service", () -> (refs[0] = domainRef(domid)) != null);
        return refs[0];
    }

    private ServiceReference<?> domainRef(int domid) {
        try {
            ServiceReference<?>[] r = context.getServiceReferences("xen.evtchn.api.host.DomainHandle",
                    "(" + DomainProperties.DOMAIN + "=" + domid + ")");
            return r == null ? null : r[0];
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits until dom{@code domid}'s service says it shut down; returns its properties then. */
    ServiceReference<?> awaitShutdown(int domid) {
        ServiceReference<?> ref = domainService(domid);
        await("dom" + domid + " to shut down", () -> ref.getProperty(DomainProperties.SHUTDOWN) != null);
        return ref;
    }

    /** Waits for {@code condition}, failing with {@code what} after {@link #WAIT_MS}. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("waited " + WAIT_MS + " ms for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    /** The component configurations of every component, with their names. */
    List<String> componentProblems() {
        ServiceComponentRuntime scr = service(ServiceComponentRuntime.class);
        List<String> problems = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION
                        || c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                    problems.add(d.name + " state " + c.state + ": " + c.failure);
                }
            }
        }
        return problems;
    }

    /** The failures of {@code component}'s configurations that failed to activate. */
    List<String> failures(String component) {
        ServiceComponentRuntime scr = service(ServiceComponentRuntime.class);
        List<String> failures = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            if (d.name.equals(component)) {
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                        failures.add(c.failure);
                    }
                }
            }
        }
        return failures;
    }

    /**
     * The jar of a bundle the build made or resolved, found by its symbolic name among the test's
     * jars, which Failsafe passes as -Ditests.jars (a class path).
     */
    static Path jar(String symbolicName) throws IOException {
        String jars = System.getProperty("itests.jars");
        if (jars == null) {
            throw new IllegalStateException("Failsafe passes -Ditests.jars (itests/pom.xml)");
        }
        for (String name : jars.split(File.pathSeparator)) {
            if (!name.endsWith(".jar")) {
                continue;
            }
            try (JarFile jar = new JarFile(name)) {
                Manifest manifest = jar.getManifest();
                String bsn = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
                if (bsn != null && bsn.split(";", 2)[0].strip().equals(symbolicName)) {
                    return Path.of(name);
                }
            }
        }
        throw new IllegalStateException("no jar of -Ditests.jars holds " + symbolicName);
    }

    /** Installs and starts an example bundle from its jar. */
    Bundle install(String symbolicName) throws BundleException, IOException {
        Bundle b = context.installBundle(jar(symbolicName).toUri().toString());
        b.start();
        return b;
    }

    /** A new revision of {@code bundle} from its jar, refreshed so that its old revision is gone. */
    void update(Bundle bundle, String symbolicName) throws BundleException, IOException, InterruptedException {
        try (InputStream in = Files.newInputStream(jar(symbolicName))) {
            bundle.update(in);
        }
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(bundle), event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue("refresh of " + bundle.getSymbolicName(), refreshed.await(WAIT_MS, TimeUnit.MILLISECONDS));
    }

    /** A Dictionary view for assertions. */
    static Map<String, Object> properties(ServiceReference<?> ref) {
        Dictionary<String, Object> d = ref.getProperties();
        Map<String, Object> m = new java.util.TreeMap<>();
        for (var keys = d.keys(); keys.hasMoreElements();) {
            String k = keys.nextElement();
            m.put(k, d.get(k));
        }
        return m;
    }
}
