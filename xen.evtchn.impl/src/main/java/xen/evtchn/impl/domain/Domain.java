package xen.evtchn.impl.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.grant.GrantTable;
import xen.evtchn.impl.time.DomainTime;

/**
 * One guest domain, whole, as Xen's struct domain: its event channels (and through them its
 * vCPUs, memory and upcall routes), the Xen version it is told, its HVM parameters, its console,
 * its time (clock, timers, pvclock), its grant table and how it shut down. Every hypercall family
 * finds it in the {@link DomainTable} with one array read. What a later facility keeps per domain
 * (a XenStore connection) belongs here.
 */
public final class Domain {
    private final GuestEventChannels events;
    private final XenVersionInfo version;
    private final HvmParams params = new HvmParams();
    private final DomainConsole console;
    private final DomainTime time;
    private final GrantTable grants;
    /** Guarded by {@link #shutdownListeners}. */
    private int shutdownReason = DomainHandle.RUNNING;
    private final List<IntConsumer> shutdownListeners = new ArrayList<>();

    Domain(GuestEventChannels events, XenVersionInfo version, DomainConsole console, DomainTime time) {
        this.events = Objects.requireNonNull(events, "events");
        this.version = Objects.requireNonNull(version, "version");
        this.console = Objects.requireNonNull(console, "console");
        this.time = Objects.requireNonNull(time, "time");
        this.grants = new GrantTable(events.vcpus().memory());
    }

    /** The guest's event channels. */
    public GuestEventChannels events() {
        return events;
    }

    /** The reason of the domain's first shutdown (SchedOp.SHUTDOWN_*), or {@link DomainHandle#RUNNING}. */
    public int shutdownReason() {
        synchronized (shutdownListeners) {
            return shutdownReason;
        }
    }

    /**
     * Records a shutdown and ends every block and poll of its vCPUs; then the listeners hear it,
     * once: the first reason counts, as Xen's domain_shutdown keeps the first shutdown_code.
     * Returns false if the domain had shut down already.
     */
    public boolean shutDown(int reason) {
        List<IntConsumer> toCall;
        synchronized (shutdownListeners) {
            if (shutdownReason != DomainHandle.RUNNING) {
                toCall = null;
            } else {
                shutdownReason = reason;
                toCall = List.copyOf(shutdownListeners);
                shutdownListeners.clear();
            }
        }
        events.wakeWaiters();
        if (toCall == null) {
            return false;
        }
        for (IntConsumer l : toCall) {
            l.accept(reason);
        }
        return true;
    }

    /** {@code listener} hears the shutdown reason once: when it comes, or now if it came. */
    public void onShutdown(IntConsumer listener) {
        Objects.requireNonNull(listener, "listener");
        int now;
        synchronized (shutdownListeners) {
            if (shutdownReason == DomainHandle.RUNNING) {
                shutdownListeners.add(listener);
                return;
            }
            now = shutdownReason;
        }
        listener.accept(now);
    }

    public DomainTime time() {
        return time;
    }

    public int domid() {
        return events.domid();
    }

    /** The domain's grant table (version 1). */
    public GrantTable grants() {
        return grants;
    }

    public XenVersionInfo version() {
        return version;
    }

    public DomainConsole console() {
        return console;
    }

    /** HVM parameter {@code index} (below {@link HvmParam#NR_PARAMS}) as last set; 0 if never set. */
    public long param(int index) {
        checkIndex(index);
        return params.get(index);
    }

    /**
     * Sets HVM parameter {@code index} as the toolstack does (any index; the guest's own
     * HVMOP_set_param is checked before it comes here). CALLBACK_IRQ also changes how upcalls
     * reach the vCPUs, and re-delivers any upcall already pending by the new route, as Xen does.
     */
    public void setParam(int index, long value) {
        checkIndex(index);
        if (index == HvmParam.CALLBACK_IRQ) {
            setCallback(value);
        } else {
            params.set(index, value);
        }
    }

    /**
     * Soft reset: every port closed, callback and vectors, vcpu_info registrations and shared_info
     * forgotten (CALLBACK_IRQ reads 0 again; the toolstack's parameters stay), every singleshot
     * timer stopped.
     */
    public synchronized void softReset() {
        events.softReset();
        params.set(HvmParam.CALLBACK_IRQ, 0);
        for (int v = 0; v < events.vcpus().vcpuCount(); v++) {
            time.timers().stopSingleshot(v);
        }
    }

    /** The raw value and the route change together, so get_param returns the route in force. */
    private synchronized void setCallback(long value) {
        params.set(HvmParam.CALLBACK_IRQ, value);
        events.upcalls().setCallback(CallbackVia.route(value));
        for (int v = 0; v < events.vcpus().vcpuCount(); v++) {
            events.upcalls().reassert(v);
        }
    }

    private static void checkIndex(int index) {
        if (!HvmParams.isIndex(index)) {
            throw new IllegalArgumentException("HVM params are 0.." + (HvmParam.NR_PARAMS - 1) + ", not " + index);
        }
    }

    @Override
    public String toString() {
        return "dom" + domid() + " on " + version;
    }
}
