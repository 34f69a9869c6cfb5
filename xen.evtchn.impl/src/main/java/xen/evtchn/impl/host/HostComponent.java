package xen.evtchn.impl.host;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.ForeignMemory;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.backend.GrantTables;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.DomainStateParking;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.impl.console.ConsoleLines;
import xen.evtchn.impl.console.DeviceConsoles;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.console.HostConsole;
import xen.evtchn.impl.console.PrefixedLineSink;
import xen.evtchn.impl.console.TokenBucket;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.grant.HostGrants;
import xen.evtchn.impl.hypercall.HypercallDispatcher;
import xen.evtchn.impl.hypercall.ShutdownListener;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ParkedTimers;

/**
 * The host as a service: one {@link XenHost}, offered to guest booters as a {@link GuestHost} and
 * to host-side backends as an {@link EvtchnHost}, {@link ForeignMemory} and {@link GrantTables}. Each domain's
 * SCHEDOP_shutdown reaches that domain's {@link DomainHandle} listeners; {@link DomainListener}
 * services (a whiteboard, e.g. the console backend, brought by {@link DomainListeners}) hear of
 * every domain made whole and of its destruction; {@link DomainStatePart} services (brought by
 * {@link DomainStateParts}) add their records to each save and get them back at a restore, and
 * park their states here ({@link DomainStateParking}) while their bundle is away. Deactivation
 * destroys the domains that are left.
 * <p>
 * The timer provider is a dynamic, greedy reference: the best-ranked {@link TimerProvider}
 * service is used, and when it changes every armed timer of every domain moves to the new one
 * with its deadline ({@link XenHost#useTimers}); with none, timers are parked
 * ({@link ParkedTimers}) until one comes. Domains live on through every swap.
 * <p>
 * Hypercall handlers registered as services with the property {@value HypercallHandler#NUMBER_PROPERTY}
 * (a whiteboard) are added to the dispatcher while they are registered, so a bundle can bring a
 * hypercall the host does not have; a number the host already handles is refused with a message.
 */
@Component(service = {GuestHost.class, EvtchnHost.class, ForeignMemory.class, GrantTables.class, DomainStateParking.class},
        immediate = true, configurationPid = HostComponent.PID)
@Designate(ocd = HostMetatype.class)
public final class HostComponent implements GuestHost, EvtchnHost, ForeignMemory, GrantTables, DomainStateParking {
    /** The host's optional configuration: {@value #STATS} (Boolean, default false) counts events per port. */
    public static final String PID = "xen.host";
    public static final String STATS = "stats";

    /** Longest console line passed on in one piece, in bytes. */
    static final int MAX_CONSOLE_LINE = 1024;

    private final XenHost xen = new XenHost(ParkedTimers.INSTANCE, ShutdownListener.NONE);
    /** The backends' grant calls, on the grant tables of the guest domains made whole. */
    private final HostGrants grants = new HostGrants(domid -> {
        Domain d = xen.domains().get(domid);
        return d == null ? null : new HostGrants.Guest(d.grants(), d.events().vcpus().memory());
    });
    /**
     * The domain listeners; its monitor orders every call to them, and every creation and
     * destruction of a domain, so that each listener hears of each domain once, created before
     * destroyed.
     */
    private final List<DomainListener> listeners = new ArrayList<>();
    /** The description of the provider in use (XenHost holds the provider); changes under this object's monitor. */
    private String providerLine = ParkedTimers.INSTANCE.toString();

    /** A bad configuration fails the activation, with a message naming the property. */
    @Activate
    public HostComponent(Map<String, Object> configuration) {
        xen.eventChannels().countEvents(stats(configuration));
    }

    /**
     * A changed configuration applies at once and the domains run on; a bad one is refused with a
     * message and the host keeps what it had (throwing here could cost the domains their host).
     */
    @Modified
    void modified(Map<String, Object> configuration) {
        try {
            xen.eventChannels().countEvents(stats(configuration));
        } catch (IllegalArgumentException e) {
            log(e.getMessage() + "; kept " + STATS + "=" + countsEvents());
        }
    }

    /** The {@value #STATS} property: true or false, default false. */
    static boolean stats(Map<String, Object> configuration) {
        Object stats = configuration.getOrDefault(STATS, false);
        return switch (String.valueOf(stats).strip()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("configuration " + PID + ": " + STATS
                    + " must be true or false: got \"" + stats + "\"");
        };
    }

    @Override
    public boolean countsEvents() {
        return xen.eventChannels().countsEvents();
    }

    /** A host on {@code timers}, without a framework (tests, benchmarks, embedding), not counting events. */
    public HostComponent(TimerProvider timers) {
        this(timers, false);
    }

    /** A host on {@code timers}, without a framework, counting events per port if {@code countEvents}. */
    public HostComponent(TimerProvider timers, boolean countEvents) {
        xen.eventChannels().countEvents(countEvents);
        bindTimers(Objects.requireNonNull(timers, "timers"), Map.of("provider.name", timers.getClass().getSimpleName()));
    }

    /** A better provider came (or the first): every timer moves to it. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindTimers(TimerProvider timers, Map<String, Object> properties) {
        providerLine = describe(properties);
        xen.useTimers(timers);
    }

    /** The provider went: timers park until the next one, unless SCR has bound that already. */
    synchronized void unbindTimers(TimerProvider timers) {
        if (xen.timers() == timers) {
            providerLine = ParkedTimers.INSTANCE.toString();
            xen.useTimers(ParkedTimers.INSTANCE);
        }
    }

    /** "precise (ranking 100, service.id 7)" from a provider's service properties. */
    static String describe(Map<String, Object> properties) {
        Object name = properties.getOrDefault("provider.name", properties.get("component.name"));
        Object ranking = properties.getOrDefault(Constants.SERVICE_RANKING, 0);
        Object id = properties.get(Constants.SERVICE_ID);
        return (name == null ? "unnamed" : name) + " (ranking " + ranking + (id == null ? "" : ", service.id " + id) + ")";
    }

    @Override
    public synchronized String timerProvider() {
        return providerLine;
    }

    @Deactivate
    void deactivate() {
        for (int domid : xen.eventChannels().domids()) {
            destroyDomain(domid);
        }
    }

    /** Whiteboard: a handler service comes; it takes its number if that is free. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addHandler(HypercallHandler handler, Map<String, Object> properties) {
        int number = number(properties);
        if (number < 0) {
            log("ignoring a hypercall handler without a valid "
                    + HypercallHandler.NUMBER_PROPERTY + " property: " + properties.get(HypercallHandler.NUMBER_PROPERTY));
            return;
        }
        try {
            xen.dispatcher().register(number, handler);
        } catch (IllegalArgumentException | IllegalStateException e) {
            log("hypercall handler refused: " + e.getMessage());
        }
    }

    void removeHandler(HypercallHandler handler, Map<String, Object> properties) {
        int number = number(properties);
        if (number >= 0) {
            xen.dispatcher().unregister(number, handler);
        }
    }

    /** The handler's hypercall number from its service property (a number or a decimal string), or -1. */
    static int number(Map<String, Object> properties) {
        Object value = properties.get(HypercallHandler.NUMBER_PROPERTY);
        try {
            long n = value instanceof Number num ? num.longValue() : Long.parseLong(String.valueOf(value).trim());
            return n >= 0 && n < HypercallDispatcher.MAX_HYPERCALLS ? (int) n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public HypercallHandler hypercalls() {
        return xen.dispatcher();
    }

    @Override
    public DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines, String xenVersion) {
        Objects.requireNonNull(vcpus, "vcpus");
        Objects.requireNonNull(consoleLines, "consoleLines");
        XenVersionInfo version = xenVersion == null ? XenVersionInfo.DEFAULT : XenVersionInfo.parse(xenVersion);
        return register(consoleLines, console -> xen.createDomain(domid, GuestWidth.X86_64, vcpus, version, console));
    }

    @Override
    public DomainHandle restoreDomain(int domid, byte[] stream, VcpuBackend vcpus, Consumer<String> consoleLines) {
        Objects.requireNonNull(stream, "stream");
        Objects.requireNonNull(vcpus, "vcpus");
        Objects.requireNonNull(consoleLines, "consoleLines");
        DomainImage image = SaveStream.read(stream);
        return register(consoleLines, console -> xen.restoreDomain(domid, image, vcpus, console));
    }

    /**
     * Makes a domain with {@code make}, given its console, and tells the domain listeners of it
     * once it is whole; under the listeners' lock, so that a listener coming meanwhile hears of
     * it once.
     */
    private DomainHandle register(Consumer<String> consoleLines, Function<DomainConsole, Domain> make) {
        HostConsole console = new HostConsole(new PrefixedLineSink(new ConsoleLines(consoleLines, MAX_CONSOLE_LINE), ""));
        synchronized (listeners) {
            DomainHandle handle = new HostDomainHandle(xen, make.apply(new DomainConsole(console, TokenBucket.defaults(),
                    new DeviceConsoles(consoleLines, MAX_CONSOLE_LINE))), console);
            for (DomainListener l : listeners) {
                created(l, handle);
            }
            return handle;
        }
    }

    @Override
    public boolean destroyDomain(int domid) {
        synchronized (listeners) {
            Domain d = xen.domains().get(domid);
            if (d == null) {
                return false;
            }
            DomainHandle handle = handle(d);
            for (DomainListener l : listeners) {
                destroyed(l, handle);
            }
            return xen.destroyDomain(domid);
        }
    }

    /**
     * A domain listener comes and hears of every domain there is ({@link DomainListeners} brings
     * the services; hosts without a framework call it themselves).
     */
    public void addListener(DomainListener listener) {
        synchronized (listeners) {
            listeners.add(listener);
            for (DomainHandle d : domains()) {
                created(listener, d);
            }
        }
    }

    public void removeListener(DomainListener listener) {
        synchronized (listeners) {
            listeners.remove(listener);
        }
    }

    /**
     * A bundle's part of every domain's save comes ({@link DomainStateParts} brings the services;
     * hosts without a framework call it themselves).
     *
     * @throws IllegalArgumentException for a name that is not a part's
     * @throws IllegalStateException    if a part of that name is registered
     */
    public void addPart(DomainStatePart part) {
        xen.parts().add(part);
    }

    public void removePart(DomainStatePart part) {
        xen.parts().remove(part);
    }

    @Override
    public void park(int domid, String part, boolean mandatory, byte[] state) {
        Objects.requireNonNull(state, "state");
        synchronized (listeners) { // orders it with the domain's destruction, which drops what was parked
            if (domid == 0 || xen.domains().get(domid) != null) {
                xen.parts().park(domid, part, mandatory, state);
            }
        }
    }

    @Override
    public byte[] take(int domid, String part) {
        return xen.parts().take(domid, part);
    }

    /** A listener that throws loses that call, never the domain (it is a third party's code). */
    private static void created(DomainListener listener, DomainHandle domain) {
        try {
            listener.domainCreated(domain);
        } catch (RuntimeException e) {
            log("a domain listener failed on dom" + domain.domid() + " created: " + e);
        }
    }

    private static void destroyed(DomainListener listener, DomainHandle domain) {
        try {
            listener.domainDestroyed(domain);
        } catch (RuntimeException e) {
            log("a domain listener failed on dom" + domain.domid() + " destroyed: " + e);
        }
    }

    /** {@link ForeignMemory}: the frames as a view of the guest domain's own memory. */
    @Override
    public MemorySegment map(int domid, long gfn, int count) {
        GuestEventChannels d = xen.eventChannels().guest(domid);
        if (d == null) {
            throw new IllegalStateException("no guest domain " + domid);
        }
        GuestMemory memory = d.vcpus().memory();
        long pages = memory.size() / GuestMemory.PAGE_SIZE;
        if (count < 1 || gfn < 0 || gfn > pages - count) {
            throw new IllegalArgumentException("dom" + domid + " has no frames 0x" + Long.toHexString(gfn) + " + " + count
                    + ": its memory is 0x" + Long.toHexString(pages) + " frames");
        }
        return memory.slice(gfn * GuestMemory.PAGE_SIZE, (long) count * GuestMemory.PAGE_SIZE);
    }

    /** {@link GrantTables}: map a granted frame of a guest domain. */
    @Override
    public GrantMapping map(int domid, int ref, boolean writable) throws GrantException {
        return grants.map(domid, ref, writable);
    }

    @Override
    public void copyFrom(int domid, int ref, int offset, MemorySegment to) throws GrantException {
        grants.copyFrom(domid, ref, offset, to);
    }

    @Override
    public void copyTo(int domid, int ref, int offset, MemorySegment from) throws GrantException {
        grants.copyTo(domid, ref, offset, from);
    }

    /** The domains made whole: one being created is left out until it is. */
    @Override
    public List<DomainHandle> domains() {
        List<DomainHandle> all = new ArrayList<>();
        for (int domid : xen.eventChannels().domids()) {
            Domain d = xen.domains().get(domid);
            if (d != null) {
                all.add(handle(d));
            }
        }
        return all;
    }

    @Override
    public DomainHandle domain(int domid) {
        Domain d = xen.domains().get(domid);
        return d == null ? null : handle(d);
    }

    /** A handle on {@code d}: made anew each time, equal to every other handle on it. */
    private DomainHandle handle(Domain d) {
        return new HostDomainHandle(xen, d, (HostConsole) d.console().sink());
    }

    @Override
    public EvtchnHandle open() {
        return xen.eventChannels().host().open();
    }

    @Override
    public EvtchnHandle open(String name) {
        return xen.eventChannels().host().open(name);
    }

    @Override
    public List<BackendState> backends() {
        return xen.eventChannels().host().backends();
    }

    @Override
    public boolean isParked(String name) {
        return xen.eventChannels().host().isParked(name);
    }

    /**
     * The host's own messages (bad configuration, refused handlers, failing listeners): few, and
     * never caused by a guest. Standard error, as the runtimes here have no Log Service.
     */
    private static void log(String message) {
        System.err.println("xen host: " + message);
    }
}
