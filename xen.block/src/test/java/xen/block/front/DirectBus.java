package xen.block.front;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.GrantTables;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;

/**
 * The bus's part for one device, as the api describes it, without XenStore: nodes in maps, the
 * port on a handle named after the device, parked at a hand-over and taken up by the next backend
 * ({@link #handOver}). Drives a backend through probe, connect, hand-over and disconnect where
 * the bus is not the point: the backend's own tests and the benchmark (the bus is not on the
 * data path); the real bus runs BlockBusTest and the itests.
 */
public final class DirectBus implements XenBusDevice {
    private final EvtchnHost evtchn;
    private final GrantTables grants;
    private final int domid;
    private final int devid;
    public final Map<String, String> backend = new ConcurrentHashMap<>();
    public final Map<String, String> frontend = new ConcurrentHashMap<>();
    private volatile boolean resumed;
    private EvtchnHandle handle;
    private DeviceBackend device;

    public DirectBus(EvtchnHost evtchn, GrantTables grants, int domid, int devid, Map<String, String> backendNodes) {
        this.evtchn = evtchn;
        this.grants = grants;
        this.domid = domid;
        this.devid = devid;
        backend.putAll(backendNodes);
    }

    /** Probes {@code driver} with this device and keeps its DeviceBackend. */
    public void probe(XenBusBackend driver) throws XenBusException {
        device = driver.probe(this);
    }

    /** The frontend wrote its nodes and went to Initialised: connect. */
    public void connect(Map<String, String> frontendNodes) throws XenBusException {
        frontend.putAll(frontendNodes);
        device.connect();
    }

    /** The backend leaves: it hands over, the port is parked; {@code next} probes and connects, resumed. */
    public void handOver(XenBusBackend next) throws XenBusException {
        device.handOver();
        handle.detach();
        handle = null;
        resumed = true;
        device = next.probe(this);
        device.connect();
    }

    public void disconnect() {
        device.disconnect();
        if (handle != null) {
            handle.close();
            handle = null;
        }
    }

    public String handleName() {
        return "vbd-" + domid + "-" + devid;
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public String type() {
        return "vbd";
    }

    @Override
    public int devid() {
        return devid;
    }

    @Override
    public String backendPath() {
        return "/local/domain/0/backend/vbd/" + domid + "/" + devid;
    }

    @Override
    public String frontendPath() {
        return "/local/domain/" + domid + "/device/vbd/" + devid;
    }

    @Override
    public String backend(String key) {
        return backend.get(key);
    }

    @Override
    public void writeBackend(String key, String value) {
        backend.put(key, value);
    }

    @Override
    public String frontend(String key) {
        return frontend.get(key);
    }

    @Override
    public long frontendNumber(String key, long min, long max) throws XenBusException {
        String value = frontend.get(key);
        if (value == null) {
            throw new XenBusException(frontendPath() + "/" + key + " is missing");
        }
        try {
            long n = Long.parseLong(value);
            if (n < min || n > max) {
                throw new XenBusException(frontendPath() + "/" + key + " must be " + min + ".." + max + ": got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new XenBusException(frontendPath() + "/" + key + " is not a number");
        }
    }

    @Override
    public boolean resumed() {
        return resumed;
    }

    @Override
    public GrantTables grants() {
        return grants;
    }

    @Override
    public Channel bindFrontendPort(int remotePort) throws XenBusException {
        handle = evtchn.open(handleName());
        BackendState.Binding parked = handle.state().binding(domid, remotePort);
        if (parked != null) {
            return new Channel(handle, parked.port());
        }
        try {
            return new Channel(handle, handle.bindInterdomain(domid, remotePort));
        } catch (EvtchnException e) {
            handle.close();
            handle = null;
            throw new XenBusException("event-channel " + remotePort + ": " + e.getMessage(), e);
        }
    }
}
