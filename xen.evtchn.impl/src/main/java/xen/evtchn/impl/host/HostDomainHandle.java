package xen.evtchn.impl.host;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;
import xen.evtchn.api.EventChannels;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestConsole;
import xen.evtchn.api.host.PortInfo;
import xen.evtchn.api.host.VcpuTimerInfo;
import xen.evtchn.impl.console.HostConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.TimerState;
import xen.evtchn.impl.time.VcpuTimers;

/**
 * The api's view of one {@link Domain} of a {@link HostComponent}: it holds no state of its own
 * (the shutdown reason and its listeners are the domain's), so any number of handles on one
 * domain agree, and are equal.
 */
final class HostDomainHandle implements DomainHandle {
    private final XenHost xen;
    private final Domain domain;
    private final HostConsole console;

    HostDomainHandle(XenHost xen, Domain domain, HostConsole console) {
        this.xen = xen;
        this.domain = domain;
        this.console = console;
    }

    @Override
    public int domid() {
        return domain.domid();
    }

    @Override
    public int vcpuCount() {
        return domain.events().vcpus().vcpuCount();
    }

    @Override
    public long timerTicks(int vcpu) {
        Objects.checkIndex(vcpu, vcpuCount());
        return domain.time().timers().fired(vcpu);
    }

    @Override
    public int shutdownReason() {
        return domain.shutdownReason();
    }

    @Override
    public void onShutdown(IntConsumer listener) {
        domain.onShutdown(listener);
    }

    @Override
    public List<PortInfo> ports() {
        GuestEventChannels d = domain.events();
        List<PortInfo> all = new ArrayList<>();
        for (int port = 1; port < d.validPorts(); port++) {
            PortInfo info = info(d, port);
            if (info != null) {
                all.add(info);
            }
        }
        return all;
    }

    @Override
    public PortInfo port(int port) {
        return info(domain.events(), port);
    }

    private static PortInfo info(GuestEventChannels d, int port) {
        PortStatus status = d.status(DomId.SELF, port);
        if (status.error() != 0 || status.status() == EvtchnStat.CLOSED) {
            return null;
        }
        return new PortInfo(port, status, d.isPending(port), d.isMasked(port), d.sentCount(port), d.raisedCount(port));
    }

    @Override
    public int inject(int port) {
        return domain.events().injectEvent(port);
    }

    @Override
    public VcpuTimerInfo timers(int vcpu) {
        Objects.checkIndex(vcpu, vcpuCount());
        VcpuTimers t = domain.time().timers();
        TimerState s = t.state(vcpu);
        return new VcpuTimerInfo(vcpu, t.clock().now(), s.singleshot(), s.period(), s.periodicNext(), t.fired(vcpu));
    }

    @Override
    public EventChannels eventChannels() {
        return domain.events();
    }

    /** Throws IllegalArgumentException once the domain is gone from its host. */
    @Override
    public byte[] save() {
        return SaveStream.write(xen.save(domain.domid()));
    }

    @Override
    public void shutdown(int reason) {
        xen.shutdown(domain.domid(), reason);
    }

    @Override
    public long hvmParam(int index) {
        return domain.param(index);
    }

    @Override
    public long ramBytes() {
        // The special frames lie inside the backend's memory but outside the guest's RAM.
        VcpuBackend vcpus = domain.events().vcpus();
        return vcpus.memory().size() - vcpus.specialFrames().count() * (long) GuestMemory.PAGE_SIZE;
    }

    @Override
    public GuestConsole console() {
        return console;
    }

    @Override
    public GuestConsole console(int n) {
        return n == 0 ? console : domain.console().devices().console(n);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HostDomainHandle h && h.domain == domain;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(domain);
    }

    @Override
    public String toString() {
        return "dom" + domain.domid();
    }
}
