package xen.bus.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.osgi.framework.Constants;
import xen.bus.core.BusComponent;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.StoreBackend;

/**
 * The test fixture of xen-bus backends: a real host on software vCPUs ({@link HostComponent}),
 * its XenStore ({@link StoreBackend}) and the bus ({@link BusComponent}), wired as the framework
 * would wire them, and guest domains played in Java ({@link GuestDomain}, {@link GuestFrontend}).
 * Published in xen.bus's test-jar: a backend's tests depend on {@code xen.evtchn:xen.bus} of type
 * {@code test-jar} (scope test), with xen.evtchn.impl, kvm.provider and xen.store (scope test).
 * <pre>
 * try (BusHost bus = new BusHost()) {
 *     GuestDomain guest = bus.domain(1);                       // a domain with its store ring served
 *     bus.register(myBackend, 0);                              // the backend service, ranking 0
 *     bus.bus().add(new DeviceNodes(1, "vbd", 51712, backendNodes, frontendNodes));
 *     GuestFrontend fe = guest.frontend("vbd", 51712);
 *     GuestFrontend.Ring ring = fe.connect(Map.of("protocol", "x86_64-abi"));
 *     ... the guest writes requests into ring.page(), guest.notify(ring.port()),
 *     ... guest.awaitEvent(ring.port()) for the backend's answer
 *     fe.close();
 * }
 * </pre>
 * API: {@link #domain}, {@link #restore}, {@link #destroy}, {@link #register} (closing the returned registration
 * unregisters the backend: the bus hands its devices over), {@link #restartBus}, {@link #bus},
 * {@link #store}, {@link #host}, {@link #log} (the components' messages; a test usually expects it
 * empty), {@link #waitFor}. Guest side: {@link GuestDomain} (pages, grants, ports, events, its
 * {@link GuestStore}), {@link GuestFrontend} (states, nodes, ring).
 */
public final class BusHost implements AutoCloseable {
    /** Each domain's RAM. */
    public static final long RAM = 1 << 20;
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final StoreBackend store = new StoreBackend(host, host, host, line -> log.add("xen.store: " + line));
    private final List<SoftwareBackend> vcpus = new ArrayList<>();
    private final Map<Integer, GuestDomain> domains = new HashMap<>();
    private final AtomicLong serviceIds = new AtomicLong(1000);
    private BusComponent bus;

    public BusHost() {
        host.addListener(store);
        host.addPart(store);
        bus = newBus();
    }

    private BusComponent newBus() {
        BusComponent b = new BusComponent(store, host, host, line -> log.add("xen.bus: " + line));
        host.addListener(b);
        host.addPart(b);
        return b;
    }

    /** The bus, as the framework's XenBus service would be. */
    public BusComponent bus() {
        return bus;
    }

    /** The XenStore service (dom0's). */
    public StoreBackend store() {
        return store;
    }

    /** The host: GuestHost, EvtchnHost, GrantTables, ForeignMemory. */
    public HostComponent host() {
        return host;
    }

    /** Every message the store and the bus logged. */
    public List<String> log() {
        return log;
    }

    /** Creates guest domain {@code domid} with one vCPU and {@link #RAM}, once its XenStore ring is served. */
    public synchronized GuestDomain domain(int domid) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
        vcpus.add(b);
        DomainHandle d = host.createDomain(domid, b, line -> { });
        waitFor(() -> store.domains().contains(domid), "dom" + domid + "'s XenStore");
        GuestDomain g = new GuestDomain(this, d, b, host.hypercalls());
        domains.put(domid, g);
        return g;
    }

    /**
     * Restores {@code stream} (a {@link DomainHandle#save()} of {@code saved}, on this host or
     * another) as guest {@code domid}, on new software vCPUs whose memory is {@code saved}'s
     * copied, as a VMM moves it; once its XenStore ring is served. Its kernel carries on from
     * {@code saved}'s ({@link GuestDomain}'s pages and grants).
     */
    public synchronized GuestDomain restore(int domid, byte[] stream, GuestDomain saved) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
        vcpus.add(b);
        b.memory().ram().copyFrom(saved.vcpus().memory().ram());
        DomainHandle d = host.restoreDomain(domid, stream, b, line -> { });
        waitFor(() -> store.domains().contains(domid), "dom" + domid + "'s XenStore");
        GuestDomain g = new GuestDomain(this, d, b, host.hypercalls(), saved);
        domains.put(domid, g);
        return g;
    }

    /** Destroys the domain, as the toolstack does: every listener hears it first. */
    public synchronized void destroy(int domid) {
        domains.remove(domid);
        host.destroyDomain(domid);
    }

    /** A registered backend service; closing it unregisters it. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Registers {@code backend} with the bus as the framework would, with service ranking
     * {@code ranking} and a service id above every earlier one.
     */
    public Registration register(XenBusBackend backend, int ranking) {
        Map<String, Object> properties = Map.of(Constants.SERVICE_RANKING, ranking,
                Constants.SERVICE_ID, serviceIds.incrementAndGet());
        BusComponent b = bus;
        b.addBackend(backend, properties);
        return () -> b.removeBackend(backend, properties);
    }

    /**
     * A bundle update of xen.bus: the bus goes (connected devices handed over, their ports parked)
     * and a new one comes and adopts every device from XenStore. The backends must be registered
     * again with the new bus ({@link #register}).
     */
    public synchronized BusComponent restartBus() {
        host.removeListener(bus);
        host.removePart(bus);
        bus.deactivate();
        bus = newBus();
        return bus;
    }

    /** Waits up to 20 s for {@code condition}. */
    public static void waitFor(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            GuestDomain.sleep();
        }
    }

    @Override
    public synchronized void close() {
        for (DomainHandle d : host.domains()) {
            host.destroyDomain(d.domid());
        }
        host.removeListener(bus);
        host.removePart(bus);
        bus.deactivate();
        host.removeListener(store);
        store.deactivate();
        vcpus.forEach(SoftwareBackend::close);
        timers.close();
    }
}
