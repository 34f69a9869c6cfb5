package xen.evtchn.impl.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.impl.hypercall.DomainConsole;
import xen.evtchn.impl.hypercall.DomainPlatform;
import xen.evtchn.impl.hypercall.HypercallDispatcher;
import xen.evtchn.impl.hypercall.PrefixedLineSink;
import xen.evtchn.impl.hypercall.TokenBucket;
import xen.evtchn.impl.hypercall.XenVersionInfo;

/**
 * The host as a service: one {@link XenHost} on the timer provider it is given, offered to guest
 * booters as a {@link GuestHost}. Each domain's SCHEDOP_shutdown reaches that domain's
 * {@link DomainHandle} listeners. Deactivation destroys the domains that are left.
 * <p>
 * Hypercall handlers registered as services with the property {@value HypercallHandler#NUMBER_PROPERTY}
 * (a whiteboard) are added to the dispatcher while they are registered, so a bundle can bring a
 * hypercall the host does not have; a number the host already handles is refused with a message.
 */
@Component(service = GuestHost.class, immediate = true)
public final class HostComponent implements GuestHost {
    /** Longest console line passed on in one piece, in bytes. */
    static final int MAX_CONSOLE_LINE = 1024;

    private final XenHost xen;
    private final ConcurrentMap<Integer, Domain> domains = new ConcurrentHashMap<>();

    @Activate
    public HostComponent(@Reference TimerProvider timers) {
        this.xen = new XenHost(Objects.requireNonNull(timers, "timers"), this::shutdown);
    }

    @Deactivate
    void deactivate() {
        for (Integer domid : List.copyOf(domains.keySet())) {
            destroyDomain(domid);
        }
    }

    /** Whiteboard: a handler service comes; it takes its number if that is free. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addHandler(HypercallHandler handler, Map<String, Object> properties) {
        int number = number(properties);
        if (number < 0) {
            System.err.println("xen host: ignoring a hypercall handler without a valid "
                    + HypercallHandler.NUMBER_PROPERTY + " property: " + properties.get(HypercallHandler.NUMBER_PROPERTY));
            return;
        }
        try {
            xen.dispatcher().register(number, handler);
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("xen host: hypercall handler refused: " + e.getMessage());
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
    public DomainHandle createDomain(int domid, VcpuBackend vcpus, Consumer<String> consoleLines) {
        Objects.requireNonNull(vcpus, "vcpus");
        Objects.requireNonNull(consoleLines, "consoleLines");
        Domain handle = new Domain(domid, vcpus.vcpuCount());
        // In the table before the domain exists, so no shutdown can miss its handle.
        if (domains.putIfAbsent(domid, handle) != null) {
            throw new IllegalStateException("domain " + domid + " already exists");
        }
        try {
            DomainConsole console = new DomainConsole(
                    new PrefixedLineSink(new ConsoleLines(consoleLines, MAX_CONSOLE_LINE), ""), TokenBucket.defaults());
            handle.platform = xen.createDomain(domid, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT, console);
            return handle;
        } catch (RuntimeException e) {
            domains.remove(domid, handle);
            throw e;
        }
    }

    @Override
    public boolean destroyDomain(int domid) {
        Domain handle = domains.remove(domid);
        boolean destroyed = xen.destroyDomain(domid);
        return handle != null && destroyed;
    }

    /** XenHost's ShutdownListener: on the vCPU thread of the SCHEDOP_shutdown. */
    private void shutdown(int domid, int reason) {
        Domain handle = domains.get(domid);
        if (handle != null) {
            handle.shutDown(reason);
        }
    }

    /** A domain of this host; the first shutdown reason counts, as in Xen. */
    private static final class Domain implements DomainHandle {
        private final int domid;
        private final int vcpus;
        private volatile DomainPlatform platform;
        private final List<IntConsumer> listeners = new ArrayList<>();
        private int reason = RUNNING;

        Domain(int domid, int vcpus) {
            this.domid = domid;
            this.vcpus = vcpus;
        }

        @Override
        public int domid() {
            return domid;
        }

        @Override
        public int vcpuCount() {
            return vcpus;
        }

        @Override
        public long timerTicks(int vcpu) {
            Objects.checkIndex(vcpu, vcpus);
            DomainPlatform p = platform;
            return p == null ? 0 : p.time().timers().fired(vcpu);
        }

        @Override
        public synchronized int shutdownReason() {
            return reason;
        }

        @Override
        public void onShutdown(IntConsumer listener) {
            Objects.requireNonNull(listener, "listener");
            int now;
            synchronized (this) {
                if (reason == RUNNING) {
                    listeners.add(listener);
                    return;
                }
                now = reason;
            }
            listener.accept(now);
        }

        void shutDown(int why) {
            List<IntConsumer> toCall;
            synchronized (this) {
                if (reason != RUNNING) {
                    return;
                }
                reason = why;
                toCall = List.copyOf(listeners);
                listeners.clear();
            }
            for (IntConsumer l : toCall) {
                l.accept(why);
            }
        }

        @Override
        public String toString() {
            return "dom" + domid;
        }
    }
}
