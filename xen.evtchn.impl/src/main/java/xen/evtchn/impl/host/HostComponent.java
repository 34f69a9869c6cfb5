package xen.evtchn.impl.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.impl.hypercall.DomainConsole;
import xen.evtchn.impl.hypercall.DomainPlatform;
import xen.evtchn.impl.hypercall.PrefixedLineSink;
import xen.evtchn.impl.hypercall.TokenBucket;
import xen.evtchn.impl.hypercall.XenVersionInfo;

/**
 * The host as a service: one {@link XenHost} on the timer provider it is given, offered to guest
 * booters as a {@link GuestHost}. Each domain's SCHEDOP_shutdown reaches that domain's
 * {@link DomainHandle} listeners. Deactivation destroys the domains that are left.
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
