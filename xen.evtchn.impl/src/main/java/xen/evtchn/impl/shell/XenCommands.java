package xen.evtchn.impl.shell;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.TimerProvider;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.api.host.PortInfo;
import xen.evtchn.api.host.VcpuTimerInfo;

/**
 * The host's Gogo commands, scope {@value #SCOPE}: they read the host only through its services
 * (GuestHost, EvtchnHost, the TimerProvider services), so they show what any bundle could see.
 * Each returns its text (Gogo prints it); a bad argument throws IllegalArgumentException with a
 * message saying what was wrong, which Gogo prints. Gogo finds a method by the command's name,
 * and "event-list" cannot be one: every command goes through {@link #_main}, which Gogo calls
 * with the command's name first.
 * <p>
 * Where a command takes an optional domain, it defaults to the host's only domain, and asks for
 * one when there are several.
 */
@Component(service = XenCommands.class, immediate = true, property = {
    "osgi.command.scope=" + XenCommands.SCOPE,
    "osgi.command.function=domains", "osgi.command.function=event-list", "osgi.command.function=event-inject",
    "osgi.command.function=providers", "osgi.command.function=timers", "osgi.command.function=stats"})
public final class XenCommands {
    public static final String SCOPE = "xen";

    private final GuestHost host;
    private final EvtchnHost backends;
    /** Every registered timer provider's properties, by service.id. */
    private final Map<Long, Map<String, Object>> providers = new ConcurrentSkipListMap<>();

    @Activate
    public XenCommands(@Reference GuestHost host, @Reference EvtchnHost backends) {
        this.host = host;
        this.backends = backends;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProvider(TimerProvider provider, Map<String, Object> properties) {
        providers.put((Long) properties.get(Constants.SERVICE_ID), properties);
    }

    void removeProvider(TimerProvider provider, Map<String, Object> properties) {
        providers.remove((Long) properties.get(Constants.SERVICE_ID));
    }

    /** Gogo's entry for every function of this service: {@code argv[0]} is the command's name. */
    public String _main(String... argv) {
        String command = argv.length == 0 ? "" : argv[0];
        int args = argv.length - 1;
        return switch (command) {
            case "domains" -> args == 0 ? domains() : usage("domains");
            case "event-list" -> args == 0 ? eventList() : args == 1 ? eventList(argv[1]) : usage("event-list [DOMID]");
            case "event-inject" -> args == 1 ? eventInject(argv[1]) : args == 2 ? eventInject(argv[1], argv[2])
                    : usage("event-inject [DOMID] PORT");
            case "providers" -> args == 0 ? providers() : usage("providers");
            case "timers" -> args == 0 ? timers() : args == 1 ? timers(argv[1]) : usage("timers [DOMID]");
            case "stats" -> args == 0 ? stats() : args == 1 ? stats(argv[1]) : usage("stats [DOMID]");
            default -> throw new IllegalArgumentException("no command xen:" + command);
        };
    }

    private static String usage(String usage) {
        throw new IllegalArgumentException("usage: xen:" + usage);
    }

    /** One line per domain: vCPUs, state, ports in use, timer events per vCPU. */
    String domains() {
        List<DomainHandle> all = host.domains();
        if (all.isEmpty()) {
            return "no domains";
        }
        StringBuilder out = new StringBuilder();
        for (DomainHandle d : all) {
            int reason = d.shutdownReason();
            out.append(String.format("dom%-5d vcpus %-3d %-9s ports %-5d timer events", d.domid(), d.vcpuCount(),
                    reason == DomainHandle.RUNNING ? "running" : SchedOp.shutdownReason(reason), d.ports().size()));
            for (int v = 0; v < d.vcpuCount(); v++) {
                out.append(v == 0 ? " " : ",").append(d.timerTicks(v));
            }
            out.append('\n');
        }
        return out.toString();
    }

    String eventList() {
        return eventList(only());
    }

    /** The domain's ports in QEMU's xen-event-list format. */
    String eventList(String domid) {
        return eventList(domain(domid));
    }

    private static String eventList(DomainHandle d) {
        StringBuilder out = new StringBuilder();
        for (PortInfo p : d.ports()) {
            out.append(eventLine(p)).append('\n');
        }
        return out.isEmpty() ? "dom" + d.domid() + ": no ports in use" : out.toString();
    }

    /** "port %4u: vcpu: %d %s", "(remote:port)" or "(n)", " PENDING", " MASKED", as QEMU prints it. */
    static String eventLine(PortInfo p) {
        PortStatus s = p.status();
        StringBuilder line = new StringBuilder(String.format("port %4d: vcpu: %d %s", p.port(), s.vcpu(),
                EvtchnStat.name(s.status())));
        switch (s.status()) {
            case EvtchnStat.INTERDOMAIN -> line.append('(').append(s.remoteDom()).append(':').append(s.remotePort()).append(')');
            case EvtchnStat.UNBOUND -> line.append('(').append(s.remoteDom()).append(":0)");
            case EvtchnStat.VIRQ -> line.append('(').append(s.virq()).append(')');
            case EvtchnStat.PIRQ -> line.append('(').append(s.pirq()).append(')');
            default -> {
                // IPI: no target, as in QEMU
            }
        }
        if (p.pending()) {
            line.append(" PENDING");
        }
        if (p.masked()) {
            line.append(" MASKED");
        }
        return line.toString();
    }

    String eventInject(String port) {
        return inject(only(), port);
    }

    /** Raises the port as if its peer had sent on it. */
    String eventInject(String domid, String port) {
        return inject(domain(domid), port);
    }

    private static String inject(DomainHandle d, String portText) {
        int port = number("port", portText, 1, Integer.MAX_VALUE);
        int r = d.inject(port);
        if (r != 0) {
            throw new IllegalArgumentException("dom" + d.domid() + " port " + port + ": " + Errno.describe(r)
                    + " (not a port in use; see xen:event-list)");
        }
        PortInfo p = d.port(port);
        return p == null ? "injected" : "injected: " + eventLine(p);
    }

    /** The timer provider in use, every registered one with its ranking, and the host-side backends. */
    String providers() {
        StringBuilder out = new StringBuilder("timers run on: ").append(host.timerProvider()).append('\n');
        out.append("timer providers registered:").append(providers.isEmpty() ? " none\n" : "\n");
        providers.forEach((id, p) -> out.append(String.format("  service.id %-4d %-18s ranking %s%s%n", id,
                p.getOrDefault("provider.name", p.getOrDefault("component.name", "unnamed")),
                p.getOrDefault(Constants.SERVICE_RANKING, 0),
                p.containsKey("provider.fallback") ? "  (" + p.get("provider.fallback") + ")" : "")));
        List<BackendState> named = backends.backends();
        out.append("backends (named host event channel handles):").append(named.isEmpty() ? " none\n" : "\n");
        for (BackendState b : named) {
            out.append("  ").append(b.name()).append(backends.isParked(b.name()) ? "  parked" : "  open");
            for (BackendState.Binding binding : b.bindings()) {
                out.append("  port ").append(binding.port()).append(" -> dom").append(binding.domid()).append(':')
                        .append(binding.remotePort());
            }
            out.append('\n');
        }
        return out.toString();
    }

    String timers() {
        return timers(only());
    }

    /** Each vCPU's singleshot and periodic timer, relative to the domain's system time now. */
    String timers(String domid) {
        return timers(domain(domid));
    }

    private static String timers(DomainHandle d) {
        StringBuilder out = new StringBuilder();
        for (int v = 0; v < d.vcpuCount(); v++) {
            VcpuTimerInfo t = d.timers(v);
            out.append(String.format("dom%d vcpu%-3d singleshot %-14s periodic %-24s fired %d%n", d.domid(), v,
                    t.singleshot() == VcpuTimerInfo.NONE ? "-" : "in " + micros(t.singleshot() - t.now()),
                    t.period() == 0 ? "-" : "every " + micros(t.period()) + ", next in " + micros(t.periodicNext() - t.now()),
                    t.fired()));
        }
        return out.toString();
    }

    String stats() {
        return stats(only());
    }

    /** Per port: events sent from it and raised on it since it was bound. */
    String stats(String domid) {
        return stats(domain(domid));
    }

    private String stats(DomainHandle d) {
        StringBuilder out = new StringBuilder(host.countsEvents() ? ""
                : "(the host does not count events: stats=true in configuration xen.host turns it on)\n");
        out.append(String.format("dom%d  port  type         sent        raised%n", d.domid()));
        for (PortInfo p : d.ports()) {
            out.append(String.format("      %4d  %-11s %-11d %d%n", p.port(), EvtchnStat.name(p.status().status()), p.sent(),
                    p.raised()));
        }
        return out.toString();
    }

    private static String micros(long ns) {
        return ns < 0 ? "overdue " + (-ns / 1000) + " us" : (ns / 1000) + " us";
    }

    /** The host's only domain; a message if there is none or several. */
    private DomainHandle only() {
        List<DomainHandle> all = host.domains();
        if (all.size() == 1) {
            return all.getFirst();
        }
        throw new IllegalArgumentException(all.isEmpty() ? "no domains" : "there are " + all.size()
                + " domains: name one (" + all.stream().map(d -> "dom" + d.domid()).toList() + ")");
    }

    private DomainHandle domain(String domidText) {
        String text = domidText.strip();
        int domid = number("domid", text.startsWith("dom") ? text.substring(3) : text, 0, 0x7FEF);
        DomainHandle d = host.domain(domid);
        if (d == null) {
            throw new IllegalArgumentException("no domain " + domid + " (see xen:domains)");
        }
        return d;
    }

    private static int number(String what, String text, int min, int max) {
        String t = text.strip();
        try {
            long n = Long.parseLong(t);
            if (n >= min && n <= max) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(what + " must be a number " + min + ".." + max + ": got \""
                + (t.length() > 20 ? t.substring(0, 20) + "..." : t) + "\"");
    }
}
