package linux.guest;

import static org.junit.jupiter.api.Assumptions.abort;

import java.lang.reflect.InvocationTargetException;
import java.util.Map;
import java.util.function.Consumer;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.GrantTables;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.impl.host.HostComponent;

/**
 * The bus (xen.bus's {@code BusComponent}, the XenBus service) and the vbd backend (xen.block's
 * {@code BlockBackend}) on a {@link LinuxSession}'s host, wired as the framework wires them: the
 * bus hears the host's domains and serves the backend as a whiteboard service of ranking 0.
 * <p>
 * Both bundles were written beside this test, on other branches: they are reached by name, and a
 * test that needs them is skipped, saying so, while they are not on the test class path (linux.guest's
 * pom must name xen.bus and xen.block as test dependencies). Once they are, this class can call their
 * constructors directly; the calls below are those, one for one.
 */
final class DiskDevices implements AutoCloseable {
    static final String BUS = "xen.bus.core.BusComponent";
    static final String BLOCK = "xen.block.backend.BlockBackend";

    private final HostComponent host;
    private final Object bus;
    private final XenBusBackend block;
    private final Map<String, Object> blockProperties = Map.of("service.ranking", 0, "service.id", 1L);

    private DiskDevices(HostComponent host, Object bus, XenBusBackend block) {
        this.host = host;
        this.bus = bus;
        this.block = block;
    }

    /** Wires the bus and the block backend on {@code host} and its XenStore; skips the test if they are not there. */
    static DiskDevices wire(HostComponent host, XenStore store, Consumer<String> log) {
        Class<?> busClass;
        Class<?> blockClass;
        try {
            busClass = Class.forName(BUS);
            blockClass = Class.forName(BLOCK);
        } catch (ClassNotFoundException e) {
            abort("skipped: the bus and the vbd backend (bundles xen.bus and xen.block) are not on linux.guest's test"
                    + " class path: " + e.getMessage());
            throw new AssertionError(e);
        }
        try {
            // new BusComponent(store, host, host, log); host.addListener(bus)
            Object bus = busClass.getConstructor(XenStore.class, EvtchnHost.class, GrantTables.class, Consumer.class)
                    .newInstance(store, host, host, (Consumer<String>) line -> log.accept("xen.bus: " + line));
            host.addListener((DomainListener) bus);
            // new BlockBackend(Map.of(), log); bus.addBackend(block, properties)
            XenBusBackend block = (XenBusBackend) blockClass.getConstructor(Map.class, Consumer.class)
                    .newInstance(Map.of(), (Consumer<String>) line -> log.accept("xen.block: " + line));
            DiskDevices d = new DiskDevices(host, bus, block);
            d.call("addBackend", block, d.blockProperties);
            return d;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("xen.bus or xen.block changed its constructors: " + e, e);
        }
    }

    /** The toolstack's XenBus. */
    XenBus bus() {
        return (XenBus) bus;
    }

    private void call(String method, Object... args) throws ReflectiveOperationException {
        for (var m : bus.getClass().getMethods()) {
            if (m.getName().equals(method) && m.getParameterCount() == args.length) {
                try {
                    m.invoke(bus, args);
                } catch (InvocationTargetException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    throw e;
                }
                return;
            }
        }
        throw new NoSuchMethodException(BUS + "." + method);
    }

    /** Unregisters the backend, stops the bus (after the domains are gone). */
    @Override
    public void close() {
        try {
            call("removeBackend", block, blockProperties);
            host.removeListener((DomainListener) bus);
            call("deactivate");
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
