package xen.evtchn.impl.evtchn;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.impl.port.PortEntry;

/**
 * Puts a saved domain's event channels into a fresh guest domain of this host, with every lock
 * involved held (the host backends', the domain's, and each peer guest's, in domid order), so that
 * nobody sees half of it. Ports keep their numbers. A channel whose other end is not here any
 * more comes back as Xen leaves a port whose peer closed: unbound, offered to that peer.
 * <ul>
 * <li>A channel to the domain itself is connected again under the new domid.
 * <li>A channel to a named host backend is bound again to a host port of that name's handle: the
 * handle that is open or parked under the name, or a new one parked until a backend opens it
 * ({@code EvtchnHost.open(name)}). The host port keeps its number if it is free. An event the
 * backend had not dealt with at the save is raised on it again.
 * <li>A channel to a guest that is here, whose port is unbound and offered to this domain (as
 * its end came back when it was restored first), is connected again; both ends are raised, as a
 * fresh bind raises its end, so both sides look at their rings.
 * </ul>
 * The stream reader has checked the image's own consistency (ports in range, VIRQ slots unique,
 * bindings that match interdomain ports to the host); what is checked here depends on the host.
 */
final class DomainRestore {
    private DomainRestore() {
    }

    static void apply(Domains domains, GuestEventChannels d, int savedDomid, DomainEventsImage saved) {
        HostBackends host = domains.backends();
        EventChannelImage image = saved.domain();
        if (image.vcpus() != d.vcpus().vcpuCount()) {
            throw new IllegalArgumentException("the saved domain has " + image.vcpus() + " vCPUs, this one "
                    + d.vcpus().vcpuCount());
        }
        TreeMap<Integer, EventDomain> involved = new TreeMap<>();
        involved.put(host.domid, host);
        involved.put(d.domid, d);
        for (PortImage p : image.ports()) {
            if (p.type() == EvtchnStat.INTERDOMAIN && p.remoteDom() != savedDomid) {
                EventDomain peer = domains.guest(p.remoteDom());
                if (peer != null) {
                    involved.put(peer.domid, peer);
                }
            }
        }
        synchronized (host) {
            long[] stamps = new long[involved.size()];
            int i = 0;
            for (EventDomain e : involved.values()) {
                stamps[i++] = e.lock.writeLock();
            }
            try {
                checkHostCanTake(host, saved);
                EventChannelImages.restoreVcpuState(d, image);
                Map<Integer, Integer> hostPorts = bindBackends(host, d, saved.backends());
                for (PortImage p : image.ports()) {
                    bindPort(domains, d, savedDomid, p, hostPorts);
                }
            } finally {
                i = stamps.length;
                for (EventDomain e : involved.descendingMap().values()) {
                    e.lock.unlockWrite(stamps[--i]);
                }
            }
        }
    }

    /** Before anything changes: enough free host ports and handle ids for the bindings. */
    private static void checkHostCanTake(HostBackends host, DomainEventsImage saved) {
        int bindings = 0;
        int newHandles = 0;
        for (BackendImage b : saved.backends()) {
            bindings += b.state().bindings().size();
            if (!host.hasNamed(b.state().name())) {
                newHandles++;
            }
        }
        int freePorts = host.ports.limit() - 1 - host.ports.boundCount();
        if (bindings > freePorts) {
            throw new IllegalStateException("the saved domain's backends hold " + bindings + " host ports; this host has "
                    + freePorts + " free");
        }
        if (newHandles > host.freeHandles()) {
            throw new IllegalStateException("the saved domain's backends need " + newHandles
                    + " new host handles; this host has " + host.freeHandles() + " free");
        }
    }

    /** Binds each saved binding to a host port and returns them, host port by guest port. */
    private static Map<Integer, Integer> bindBackends(HostBackends host, GuestEventChannels d, Iterable<BackendImage> backends) {
        Map<Integer, Integer> hostPorts = new HashMap<>();
        for (BackendImage b : backends) {
            HostHandle h = host.namedForRestore(b.state().name());
            Set<Integer> pending = new HashSet<>(b.pendingPorts());
            for (BackendState.Binding binding : b.state().bindings()) {
                int port = binding.port();
                if (port >= host.ports.limit() || PortEntry.isBound(host.ports.get(port))) {
                    port = host.freePort(); // checkHostCanTake counted enough
                }
                host.bindPort(port, PortEntry.interdomain(h.id, d.domid, binding.remotePort()));
                if (pending.contains(binding.port())) {
                    host.setPendingOnBind(port, h.id);
                }
                hostPorts.put(binding.remotePort(), port);
            }
        }
        return hostPorts;
    }

    private static void bindPort(Domains domains, GuestEventChannels d, int savedDomid, PortImage p, Map<Integer, Integer> hostPorts) {
        int self = d.domid;
        GuestEventChannels peer = null;
        long entry = switch (p.type()) {
            case EvtchnStat.UNBOUND -> PortEntry.unbound(p.vcpu(), p.remoteDom() == savedDomid ? self : p.remoteDom());
            case EvtchnStat.VIRQ -> PortEntry.virq(p.vcpu(), p.virq());
            case EvtchnStat.IPI -> PortEntry.ipi(p.vcpu());
            case EvtchnStat.INTERDOMAIN -> {
                if (p.remoteDom() == savedDomid) {
                    yield PortEntry.interdomain(p.vcpu(), self, p.remotePort());
                }
                if (p.remoteDom() == DomId.HOST) {
                    Integer hostPort = hostPorts.get(p.port());
                    // An anonymous handle's channel did not move: offered to the host again.
                    yield hostPort != null ? PortEntry.interdomain(p.vcpu(), DomId.HOST, hostPort)
                            : PortEntry.unbound(p.vcpu(), DomId.HOST);
                }
                peer = waitingPeer(domains, d, p);
                yield peer != null ? PortEntry.interdomain(p.vcpu(), peer.domid, p.remotePort())
                        : PortEntry.unbound(p.vcpu(), p.remoteDom());
            }
            default -> throw new IllegalArgumentException("port " + p.port() + ": type " + p.type() + " cannot be restored");
        };
        EventChannelImages.bindSaved(d, p.port(), PortEntry.withPriority(entry, p.priority()));
        if (peer != null) {
            long r = peer.ports.get(p.remotePort());
            peer.ports.set(p.remotePort(), PortEntry.rebound(r, PortEntry.interdomain(PortEntry.vcpu(r), self, p.port())));
            peer.setPendingOnBind(p.remotePort(), PortEntry.vcpu(r));
            d.setPendingOnBind(p.port(), p.vcpu());
        }
    }

    /** The guest at the far end of a saved channel if it is here and its port waits, unbound, for this domain. */
    private static GuestEventChannels waitingPeer(Domains domains, GuestEventChannels d, PortImage p) {
        GuestEventChannels peer = domains.guest(p.remoteDom());
        if (peer == null || peer == d || !peer.ports.isValid(p.remotePort())) {
            return null;
        }
        long r = peer.ports.get(p.remotePort());
        return PortEntry.type(r) == PortEntry.UNBOUND && PortEntry.remoteDom(r) == d.domid ? peer : null;
    }
}
