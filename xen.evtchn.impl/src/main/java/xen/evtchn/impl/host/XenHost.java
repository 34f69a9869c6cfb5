package xen.evtchn.impl.host;

import java.lang.foreign.MemorySegment;
import java.util.List;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.SpecialFrames;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.DomainEventsImage;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.grant.GrantTableImage;
import xen.evtchn.impl.hypercall.HandlerFailures;
import xen.evtchn.impl.hypercall.HypercallDispatcher;
import xen.evtchn.impl.hypercall.HypercallFamilies;
import xen.evtchn.impl.hypercall.ShutdownListener;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.PartImage;
import xen.evtchn.impl.time.DomainTime;
import xen.evtchn.impl.time.GuestClock;
import xen.evtchn.impl.time.TimerState;

/**
 * One host: its domains, every hypercall family in one dispatcher, and a timer provider. It
 * makes a guest domain whole: event channels, platform state, clock, timers and pvclock.
 * Backends take {@link #dispatcher()} as their hypercall handler.
 */
public final class XenHost {
    /** The event channels' own index of port owners by domid (guests and the host's backends). */
    private final Domains eventChannels = new Domains();
    /** Every guest domain, whole. */
    private final DomainTable domains = new DomainTable();
    private final HypercallDispatcher dispatcher;
    /** Guards {@link #timers} against a domain created while every domain's timers move. */
    private final Object timerLock = new Object();
    private final HypercallFamilies families;
    /** The bundles' parts of a domain's save, and their parked states. */
    private final StateParts parts = new StateParts();
    private TimerProvider timers;

    public XenHost(TimerProvider timers, ShutdownListener shutdowns) {
        this(timers, shutdowns, HandlerFailures.STDERR);
    }

    /** A host whose hypercall handlers' exceptions, turned into errnos, are logged to {@code failures}. */
    public XenHost(TimerProvider timers, ShutdownListener shutdowns, HandlerFailures.Log failures) {
        // A backend names the calling vCPU; one its domain does not have is refused before any family runs.
        this.dispatcher = new HypercallDispatcher((domid, vcpu) -> {
            GuestEventChannels d = eventChannels.guest(domid);
            return d == null || d.vcpus().vcpuExists(vcpu);
        }, new HandlerFailures(failures));
        this.timers = timers;
        this.families = new HypercallFamilies(eventChannels, domains, shutdowns);
        families.registerWith(dispatcher);
    }

    /**
     * The toolstack's shutdown of guest {@code domid} (xc_domain_shutdown): as its SCHEDOP_shutdown
     * with {@code reason} would. False if there is no such guest.
     *
     * @throws IllegalArgumentException for SHUTDOWN_SOFT_RESET or a reason Xen does not have
     */
    public boolean shutdown(int domid, int reason) {
        if (reason < SchedOp.SHUTDOWN_POWEROFF || reason > SchedOp.SHUTDOWN_WATCHDOG) {
            throw new IllegalArgumentException("a domain is shut down with poweroff, reboot, suspend, crash or watchdog"
                    + " (0..4): got " + reason);
        }
        Domain p = domains.get(domid);
        if (p == null) {
            return false;
        }
        families.schedOp().shutdown(p, reason);
        return true;
    }

    /** The bundles' parts of a domain's save (api DomainStatePart) and their parking place. */
    StateParts parts() {
        return parts;
    }

    public HypercallDispatcher dispatcher() {
        return dispatcher;
    }

    /** Every guest domain, whole: the registry the hypercall families and the toolstack use. */
    public DomainTable domains() {
        return domains;
    }

    /** The event channel layer: guests' ports and the host's backends. */
    public Domains eventChannels() {
        return eventChannels;
    }

    /** The provider the timers run on now. */
    public TimerProvider timers() {
        synchronized (timerLock) {
            return timers;
        }
    }

    /**
     * Moves every domain's armed timers to {@code next} with their deadlines (VcpuTimers.moveTo:
     * none lost, none fired twice); domains created from now on use it.
     */
    public void useTimers(TimerProvider next) {
        synchronized (timerLock) {
            timers = next;
            for (int domid : eventChannels.domids()) {
                Domain p = domains.get(domid);
                if (p != null) {
                    p.time().timers().moveTo(next);
                }
            }
        }
    }

    /**
     * Creates guest domain {@code domid} on {@code vcpus}: system time starts now, and every
     * vCPU's vcpu_time_info is written before the guest runs (it moves with shared_info and
     * vcpu_info). Refuses a bad or taken domid with IllegalArgumentException/IllegalStateException.
     */
    public Domain createDomain(int domid, GuestWidth width, VcpuBackend vcpus, XenVersionInfo version,
            DomainConsole console) {
        synchronized (timerLock) {
            GuestEventChannels d = eventChannels.create(domid, width, vcpus);
            DomainTime time = startTime(d, 0);
            try {
                Domain p = domains.create(d, version, console, time);
                offerRings(p);
                return p;
            } catch (RuntimeException e) {
                Domain p = domains.get(domid);
                if (p != null && p.events() == d) {
                    domains.remove(domid);
                }
                eventChannels.destroy(domid);
                throw e;
            }
        }
    }

    /**
     * What Xen's toolstack does for every new domain: a console ring (struct xencons_interface) in
     * the backend's console special frame, zeroed, and a port the domain offers the host for its
     * console backend, both announced in HVM_PARAM_CONSOLE_PFN and CONSOLE_EVTCHN; and the same
     * for XenStore's ring (struct xenstore_domain_interface, zeroed so that its connection field
     * reads XENSTORE_CONNECTED) in the store special frame, announced in HVM_PARAM_STORE_PFN and
     * STORE_EVTCHN. A backend without such a frame gives the domain no such ring (the parameters
     * stay 0, as with a toolstack that sets up no PV console or no xenstore).
     */
    private static void offerRings(Domain p) {
        offerRing(p, SpecialFrames.CONSOLE, HvmParam.CONSOLE_PFN, HvmParam.CONSOLE_EVTCHN, "console");
        offerRing(p, SpecialFrames.STORE, HvmParam.STORE_PFN, HvmParam.STORE_EVTCHN, "xenstore");
    }

    private static void offerRing(Domain p, int frame, int pfnParam, int evtchnParam, String what) {
        GuestEventChannels d = p.events();
        SpecialFrames special = d.vcpus().specialFrames();
        if (!special.has(frame)) {
            return;
        }
        long gfn = special.frame(frame);
        MemorySegment ring = d.vcpus().memory().page(gfn);
        if (ring == null) {
            throw new IllegalArgumentException("the " + what + "'s special frame 0x" + Long.toHexString(gfn)
                    + " is outside the backend's guest memory (" + d.vcpus().memory().size() + " bytes)");
        }
        ring.fill((byte) 0);
        int port = d.allocUnbound(DomId.SELF, DomId.HOST);
        if (port < 0) {
            throw new IllegalStateException("dom" + d.domid() + ": no port for its " + what + ": " + Errno.name(-port));
        }
        p.setParam(pfnParam, gfn);
        p.setParam(evtchnParam, port);
    }

    /**
     * Saves guest {@code domid}: its timers stop first (none fires on this host again, and none
     * is on its way), then the bundles' parts save theirs (a device backend answers what it took),
     * then the hypervisor's state is taken, at the guest's system time of the timers' stop. Pause its
     * vCPUs before, so that the guest changes nothing meanwhile; afterwards destroy it, or restore
     * the image to let it carry on. Throws IllegalArgumentException if there is no such guest.
     */
    public DomainImage save(int domid) {
        Domain p = domains.get(domid);
        if (p == null) {
            throw new IllegalArgumentException("no guest domain " + domid);
        }
        List<TimerState> timers;
        long now;
        synchronized (p) {
            timers = p.time().timers().stopForSave();
            now = p.time().clock().now();
        }
        // The bundles' parts first, outside the domain's lock (a part may wait for its own thread,
        // which raises the domain's ports): a device backend finishing the requests it took
        // notifies the guest, and that event, a FIFO tail it moves and the grants it unmaps belong
        // in the image taken below, not after it.
        List<PartImage> partImages = parts.save(domid);
        DomainImage image;
        synchronized (p) { // the callback and its route change together under it
            DomainEventsImage events = eventChannels.save(domid);
            long[] params = new long[HvmParam.NR_PARAMS];
            for (int i = 0; i < params.length; i++) {
                params[i] = p.param(i);
            }
            image = new DomainImage(domid, p.events().width(), p.version().major(), p.version().minor(), now, events,
                    params, timers, p.grants().save());
        }
        return image.withParts(partImages);
    }

    /**
     * Restores {@code image} as guest {@code domid} on {@code vcpus}, whose memory holds the
     * saved guest's (the VMM copied it): ports, vcpu_info and shared_info where the guest put
     * them, callback and vectors, HVM parameters, the Xen version it was told, and its timers.
     * System time carries on from the saved one (the time between save and restore does not
     * count), so every deadline keeps its distance; the pvclock of every vCPU is written anew for
     * this backend's TSC. Any upcall that was pending is delivered again.
     *
     * The bundles' parts ({@link StateParts}) check their records before anything is made and
     * apply them last, the domain whole and its guest not yet run.
     *
     * @throws SaveStreamException    if the image does not fit {@code vcpus} (vCPU count, frames outside its RAM),
     *                                or has a mandatory part no bundle here provides, or one its part refuses
     * @throws IllegalStateException  if {@code domid} exists, or this host has no room for the backends' bindings;
     *                                nothing is left behind
     * @throws IllegalArgumentException for a domid that is not a guest's
     */
    public Domain restoreDomain(int domid, DomainImage image, VcpuBackend vcpus, DomainConsole console) {
        checkFits(image, vcpus);
        if (domains.get(domid) != null) {
            throw new IllegalStateException("domain " + domid + " exists");
        }
        // The bundles' parts check their records before anything is made.
        List<DomainStatePart.Restore> restores = parts.prepare(domid, image.domid(), image.parts());
        synchronized (timerLock) {
            GuestEventChannels d = eventChannels.create(domid, image.width(), vcpus);
            try {
                eventChannels.restore(d, image.domid(), image.events());
                DomainTime time = startTime(d, image.systemTime());
                Domain p = domains.create(d, XenVersionInfo.DEFAULT.withVersion(image.xenMajor(), image.xenMinor()),
                        console, time);
                for (int i = 0; i < HvmParam.NR_PARAMS; i++) {
                    if (i != HvmParam.CALLBACK_IRQ && image.hvmParams()[i] != 0) {
                        p.setParam(i, image.hvmParams()[i]);
                    }
                }
                if (image.grants() != null) {
                    p.grants().restore(image.grants());
                }
                for (int v = 0; v < vcpus.vcpuCount(); v++) {
                    time.timers().restore(v, image.timers().get(v));
                }
                // Last: its route in place, every upcall that was pending is delivered again.
                p.setParam(HvmParam.CALLBACK_IRQ, image.hvmParams()[HvmParam.CALLBACK_IRQ]);
                // The domain exists and its guest has not run: the bundles' parts apply their state.
                for (DomainStatePart.Restore r : restores) {
                    r.apply();
                }
                return p;
            } catch (RuntimeException e) {
                Domain p = domains.get(domid);
                if (p != null && p.events() == d) {
                    p.time().timers().stopAll();
                    p.grants().unmapExtraPages();
                    domains.remove(domid);
                }
                eventChannels.destroy(domid);
                throw e;
            }
        }
    }

    /**
     * The domain's time from now, timerLock held: system time {@code systemTime} now (0 at boot,
     * the saved time at a restore) at the backend's TSC now, written into every vCPU's
     * vcpu_time_info (it moves with shared_info and vcpu_info); timers on the host's provider.
     */
    private DomainTime startTime(GuestEventChannels d, long systemTime) {
        VcpuBackend vcpus = d.vcpus();
        long tsc = vcpus.tsc();
        GuestClock clock = new GuestClock(System::nanoTime, System.nanoTime() - systemTime);
        DomainTime time = new DomainTime(clock, vcpus.vcpuCount(), timers, vcpus.tscHz(), tsc, systemTime,
                vcpu -> d.raiseVirq(Virq.TIMER.number(), vcpu));
        for (int v = 0; v < vcpus.vcpuCount(); v++) {
            time.writeTimeInfo(d.vcpuInfo(v));
        }
        time.writeWallclock(d.sharedInfo(), d.width());
        return time;
    }

    /**
     * Refuses a saved location outside guest RAM: {@code where} is a guest frame if {@code frame},
     * else a guest-physical address; {@link EventChannelImage#NOWHERE} is nothing to check.
     */
    private static void requireInRam(GuestMemory memory, long where, long size, String what, boolean frame) {
        if (where == EventChannelImage.NOWHERE) {
            return;
        }
        MemorySegment s = frame ? memory.page(where) : memory.slice(where, size);
        if (s == null) {
            throw new SaveStreamException(what + " 0x" + Long.toHexString(where) + " is outside the backend's guest RAM ("
                    + memory.size() + " bytes)");
        }
    }

    /** The image's vCPUs and frames against the backend's, before anything is made. */
    private static void checkFits(DomainImage image, VcpuBackend vcpus) {
        if (image.vcpus() != vcpus.vcpuCount()) {
            throw new SaveStreamException("the saved dom" + image.domid() + " has " + image.vcpus()
                    + " vCPUs; the backend to restore it on has " + vcpus.vcpuCount());
        }
        EventChannelImage ev = image.events().domain();
        GuestMemory memory = vcpus.memory();
        requireInRam(memory, ev.sharedInfoGfn(), GuestMemory.PAGE_SIZE, "the saved shared_info frame", true);
        FifoImage fifo = ev.fifo();
        for (int v = 0; v < image.vcpus(); v++) {
            requireInRam(memory, ev.vcpuInfoAt()[v], VcpuInfoLayout.SIZE, "vCPU " + v + "'s saved vcpu_info", false);
            if (fifo != null) {
                requireInRam(memory, fifo.controlBlockAt()[v], EvtchnFifo.CONTROL_BLOCK_SIZE,
                        "vCPU " + v + "'s saved FIFO control block", false);
            }
        }
        if (fifo != null) {
            for (long gfn : fifo.arrayPageGfns()) {
                requireInRam(memory, gfn, GuestMemory.PAGE_SIZE, "the saved event array frame", true);
            }
        }
        GrantTableImage grants = image.grants();
        for (int i = 0; grants != null && i < grants.nrFrames(); i++) {
            long gpfn = grants.gpfns()[i];
            if (!grants.onExtraPage(i)) {
                requireInRam(memory, gpfn, GuestMemory.PAGE_SIZE, "the saved grant table frame " + i, true);
            } else if (memory.page(gpfn) != null) {
                throw new SaveStreamException("the saved grant table frame " + i + " was on an extra page outside RAM at 0x"
                        + Long.toHexString(gpfn) + ", which is in the backend's guest RAM (" + memory.size() + " bytes)");
            }
        }
    }

    /** Stops the domain's timers and removes it; its peers' ports return to unbound. False if there was none. */
    public boolean destroyDomain(int domid) {
        Domain p = domains.get(domid);
        if (p == null) {
            return false;
        }
        p.time().timers().stopAll();
        p.events().wakeWaiters();
        domains.remove(domid);
        parts.forget(domid);
        return eventChannels.destroy(domid);
    }
}
