package xen.console;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.ForeignMemory;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;

/**
 * The PV console backend (xenconsoled's job): for every domain the host announces with a console
 * ring (HVM_PARAM_CONSOLE_PFN and CONSOLE_EVTCHN, set by the host as Xen's toolstack does), it
 * maps the ring page, binds the guest's console port and serves the ring ({@link RingConsole}).
 * <p>
 * Hot-swappable: each domain's port is held by a handle named {@code console-DOMID}. When this
 * instance goes because its bundle is updated or stopped, each ring's thread finishes its pass
 * and the handle is detached, so the next instance takes the port over with the events that came
 * meanwhile; the ring's indices live in guest memory and the typed input in the host's
 * {@link xen.evtchn.api.host.GuestConsole}, so nothing is lost or doubled.
 */
@Component(service = DomainListener.class, immediate = true)
public final class ConsoleBackend implements DomainListener {
    private final EvtchnHost evtchn;
    private final ForeignMemory memory;
    private final Consumer<String> log;
    private final Map<Integer, RingConsole> rings = new HashMap<>();
    private boolean deactivated;

    @Activate
    public ConsoleBackend(@Reference EvtchnHost evtchn, @Reference ForeignMemory memory) {
        this(evtchn, memory, line -> System.err.println("xen.console: " + line));
    }

    /** A backend whose messages go to {@code log} (tests, embedding). */
    public ConsoleBackend(EvtchnHost evtchn, ForeignMemory memory, Consumer<String> log) {
        this.evtchn = evtchn;
        this.memory = memory;
        this.log = log;
    }

    /** The handle name of {@code domid}'s console port. */
    static String handleName(int domid) {
        return "console-" + domid;
    }

    @Override
    public synchronized void domainCreated(DomainHandle domain) {
        int domid = domain.domid();
        long gfn = domain.hvmParam(HvmParam.CONSOLE_PFN);
        long remotePort = domain.hvmParam(HvmParam.CONSOLE_EVTCHN);
        if (deactivated || rings.containsKey(domid) || gfn == 0 || remotePort <= 0 || remotePort > Integer.MAX_VALUE) {
            return; // a domain without a console ring (its VMM set no special frames)
        }
        EvtchnHandle handle = evtchn.open(handleName(domid));
        try {
            MemorySegment ring = memory.map(domid, gfn, 1);
            BackendState.Binding binding = handle.state().binding(domid, (int) remotePort);
            int port = binding != null ? binding.port() : handle.bindInterdomain(domid, (int) remotePort);
            RingConsole console = new RingConsole(domid, ring, handle, port, domain.console(), log);
            rings.put(domid, console);
            console.start();
        } catch (EvtchnException | RuntimeException e) {
            handle.close();
            log.accept("dom" + domid + ": no console: " + e.getMessage());
        }
    }

    @Override
    public void domainDestroyed(DomainHandle domain) {
        RingConsole console;
        synchronized (this) {
            console = rings.remove(domain.domid());
        }
        if (console != null) {
            stop(console);
            console.handle().close();
        }
    }

    /** The domains whose rings this instance serves (for tests and tools). */
    public synchronized List<Integer> domains() {
        return List.copyOf(rings.keySet());
    }

    /**
     * Stops every ring's thread after its pass and hands its port over (detached, its events kept)
     * to the next console backend, whatever the reason: a console is never left without a way back.
     */
    @Deactivate
    void deactivate() {
        List<RingConsole> all;
        synchronized (this) {
            deactivated = true;
            all = List.copyOf(rings.values());
            rings.clear();
        }
        for (RingConsole console : all) {
            stop(console);
            console.handle().detach();
        }
    }

    private static void stop(RingConsole console) {
        try {
            console.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
