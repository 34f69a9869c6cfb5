package linux.guest;

import java.util.Map;
import java.util.function.Consumer;
import org.osgi.framework.Constants;
import xen.block.backend.BlockBackend;
import xen.bus.core.BusComponent;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.impl.host.HostComponent;

/**
 * The bus (xen.bus's {@link BusComponent}, the XenBus service) and the vbd backend (xen.block's
 * {@link BlockBackend}) on a {@link LinuxSession}'s host, wired as the framework wires them: the
 * bus hears the host's domains and serves the backend as a whiteboard service of ranking 0.
 */
final class DiskDevices implements AutoCloseable {
    private final HostComponent host;
    private final BusComponent bus;
    private final Consumer<String> log;
    private BlockBackend block;
    private Map<String, Object> blockProperties = properties(1);

    DiskDevices(HostComponent host, XenStore store, Consumer<String> log) {
        this.host = host;
        bus = new BusComponent(store, host, host, line -> log.accept("xen.bus: " + line));
        host.addListener(bus);
        this.log = log;
        block = new BlockBackend(Map.of(), line -> log.accept("xen.block: " + line));
        bus.addBackend(block, blockProperties);
    }

    private static Map<String, Object> properties(long serviceId) {
        return Map.of(Constants.SERVICE_RANKING, 0, Constants.SERVICE_ID, serviceId);
    }

    /**
     * What an update of bundle xen.block does to the bus: the backend service goes (the bus hands
     * its devices over: every request taken answered, the port parked), a new one comes and
     * takes them over.
     */
    synchronized void swapBackend() {
        bus.removeBackend(block, blockProperties);
        block = new BlockBackend(Map.of(), line -> log.accept("xen.block: " + line));
        blockProperties = properties((Long) blockProperties.get(Constants.SERVICE_ID) + 1);
        bus.addBackend(block, blockProperties);
    }

    /** The toolstack's XenBus. */
    XenBus bus() {
        return bus;
    }

    /** Unregisters the backend, stops the bus (after the domains are gone). */
    @Override
    public synchronized void close() {
        bus.removeBackend(block, blockProperties);
        host.removeListener(bus);
        bus.deactivate();
    }
}
