package xen.evtchn.impl.host;

import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.impl.Domains;
import xen.evtchn.impl.EventChannelOpHandler;
import xen.evtchn.impl.GuestDomain;
import xen.evtchn.impl.hypercall.DomainConsole;
import xen.evtchn.impl.hypercall.DomainPlatform;
import xen.evtchn.impl.hypercall.HypercallDispatcher;
import xen.evtchn.impl.hypercall.PlatformHypercalls;
import xen.evtchn.impl.hypercall.Platforms;
import xen.evtchn.impl.hypercall.SchedOpHandler;
import xen.evtchn.impl.hypercall.SetTimerOpHandler;
import xen.evtchn.impl.hypercall.ShutdownListener;
import xen.evtchn.impl.hypercall.VcpuOpHandler;
import xen.evtchn.impl.hypercall.XenVersionInfo;
import xen.evtchn.impl.time.DomainTime;
import xen.evtchn.impl.time.GuestClock;

/**
 * One host: its domains, every hypercall family in one dispatcher, and a timer provider. It
 * makes a guest domain whole: event channels, platform state, clock, timers and pvclock.
 * Backends take {@link #dispatcher()} as their hypercall handler.
 */
public final class XenHost {
    private final Domains domains = new Domains();
    private final Platforms platforms = new Platforms();
    /** A backend names the calling vCPU; one its domain does not have is refused before any family runs. */
    private final HypercallDispatcher dispatcher = new HypercallDispatcher((domid, vcpu) -> {
        GuestDomain d = domains.guest(domid);
        return d == null || d.vcpus().vcpuExists(vcpu);
    });
    /** Guards {@link #timers} against a domain created while every domain's timers move. */
    private final Object timerLock = new Object();
    private TimerProvider timers;

    public XenHost(TimerProvider timers, ShutdownListener shutdowns) {
        this.timers = timers;
        dispatcher.register(Hypercall.EVENT_CHANNEL_OP, new EventChannelOpHandler(domains));
        new PlatformHypercalls(platforms).registerWith(dispatcher);
        dispatcher.register(Hypercall.VCPU_OP, new VcpuOpHandler(platforms));
        dispatcher.register(Hypercall.SET_TIMER_OP, new SetTimerOpHandler(platforms));
        dispatcher.register(Hypercall.SCHED_OP, new SchedOpHandler(platforms, shutdowns));
    }

    public HypercallDispatcher dispatcher() {
        return dispatcher;
    }

    public Domains domains() {
        return domains;
    }

    public Platforms platforms() {
        return platforms;
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
            for (int domid : domains.domids()) {
                DomainPlatform p = platforms.get(domid);
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
    public DomainPlatform createDomain(int domid, GuestWidth width, VcpuBackend vcpus, XenVersionInfo version,
            DomainConsole console) {
        synchronized (timerLock) {
            GuestDomain d = domains.create(domid, width, vcpus);
            long boot = System.nanoTime();
            long tscAtBoot = vcpus.tsc();
            DomainTime time = new DomainTime(new GuestClock(System::nanoTime, boot), vcpus.vcpuCount(), timers,
                    vcpus.tscHz(), tscAtBoot, vcpu -> d.raiseVirq(Virq.TIMER.number(), vcpu));
            for (int v = 0; v < vcpus.vcpuCount(); v++) {
                time.writeTimeInfo(d.vcpuInfo(v));
            }
            try {
                return platforms.create(d, version, console, time);
            } catch (RuntimeException e) {
                domains.destroy(domid);
                throw e;
            }
        }
    }

    /** Stops the domain's timers and removes it; its peers' ports return to unbound. False if there was none. */
    public boolean destroyDomain(int domid) {
        DomainPlatform p = platforms.get(domid);
        if (p == null) {
            return false;
        }
        p.time().timers().stopAll();
        p.domain().wakeWaiters();
        platforms.remove(domid);
        return domains.destroy(domid);
    }
}
