package xen.evtchn.impl.hypercall;

import java.util.Objects;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;

/**
 * What the hypercall families other than event_channel_op keep for one guest domain: the domain,
 * the Xen version it is told, its HVM parameters, its console, its time (clock, timers, pvclock)
 * and how it shut down. Created by {@link Platforms}.
 */
public final class DomainPlatform {
    private final GuestEventChannels domain;
    private final XenVersionInfo version;
    private final HvmParams params = new HvmParams();
    private final DomainConsole console;
    private final DomainTime time;
    private volatile int shutdownReason = NOT_SHUT_DOWN;

    /** {@link #shutdownReason()} of a domain that runs. */
    public static final int NOT_SHUT_DOWN = -1;

    DomainPlatform(GuestEventChannels domain, XenVersionInfo version, DomainConsole console, DomainTime time) {
        this.domain = Objects.requireNonNull(domain, "domain");
        this.version = Objects.requireNonNull(version, "version");
        this.console = Objects.requireNonNull(console, "console");
        this.time = Objects.requireNonNull(time, "time");
    }

    public DomainTime time() {
        return time;
    }

    /** The reason of the domain's SCHEDOP_shutdown (SchedOp.SHUTDOWN_*), or {@link #NOT_SHUT_DOWN}. */
    public int shutdownReason() {
        return shutdownReason;
    }

    void shutDown(int reason) {
        shutdownReason = reason;
    }

    public GuestEventChannels domain() {
        return domain;
    }

    public int domid() {
        return domain.domid();
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
        domain.softReset();
        params.set(HvmParam.CALLBACK_IRQ, 0);
        for (int v = 0; v < domain.vcpus().vcpuCount(); v++) {
            time.timers().stopSingleshot(v);
        }
    }

    /** The raw value and the route change together, so get_param returns the route in force. */
    private synchronized void setCallback(long value) {
        params.set(HvmParam.CALLBACK_IRQ, value);
        domain.setCallback(CallbackVia.route(value));
        for (int v = 0; v < domain.vcpus().vcpuCount(); v++) {
            domain.reassertUpcall(v);
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
