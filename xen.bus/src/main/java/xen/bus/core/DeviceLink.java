package xen.bus.core;

import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.GrantTables;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;
import xen.evtchn.api.store.XenStore;

/**
 * A device as one backend sees it between its probe and its disconnect or hand-over: node access
 * under the two directories, the grants, and the device's named event channel handle
 * ({@link Device#handleName}), opened at the first {@link #bindFrontendPort} and closed or parked
 * by the bus. Once the bus has taken the device back ({@link #retire}) binding fails, so a
 * backend that left cannot touch the next one's ports.
 */
final class DeviceLink implements XenBusDevice {
    private final Device device;
    private final XenStore store;
    private final EvtchnHost evtchn;
    private final GrantTables grants;
    private final boolean resumed;
    private EvtchnHandle handle;
    private boolean retired;

    DeviceLink(Device device, XenStore store, EvtchnHost evtchn, GrantTables grants, boolean resumed) {
        this.device = device;
        this.store = store;
        this.evtchn = evtchn;
        this.grants = grants;
        this.resumed = resumed;
    }

    @Override
    public int domid() {
        return device.domid;
    }

    @Override
    public String type() {
        return device.type;
    }

    @Override
    public int devid() {
        return device.devid;
    }

    @Override
    public String backendPath() {
        return device.backendPath;
    }

    @Override
    public String frontendPath() {
        return device.frontendPath;
    }

    @Override
    public String backend(String key) {
        return Toolstack.read(store, device.backendPath + "/" + checked(key));
    }

    @Override
    public void writeBackend(String key, String value) {
        store.write(device.backendPath + "/" + checked(key), value);
    }

    @Override
    public String frontend(String key) {
        return Toolstack.read(store, device.frontendPath + "/" + checked(key));
    }

    @Override
    public long frontendNumber(String key, long min, long max) throws XenBusException {
        String path = device.frontendPath + "/" + checked(key);
        return NodeValues.number(path, Toolstack.read(store, path), min, max);
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
    public synchronized Channel bindFrontendPort(int remotePort) throws XenBusException {
        if (retired) {
            throw new XenBusException(device + ": this backend no longer serves the device");
        }
        if (remotePort <= 0) {
            throw new XenBusException(device + ": event channel " + remotePort + " is not a port");
        }
        if (handle == null) {
            try {
                handle = evtchn.open(device.handleName);
            } catch (IllegalStateException e) {
                throw new XenBusException(device + ": its event channel handle is in use: " + e.getMessage());
            }
        }
        if (resumed) {
            BackendState.Binding binding = handle.state().binding(device.domid, remotePort);
            if (binding != null) {
                return new Channel(handle, binding.port()); // the previous backend's, with the events since
            }
        }
        try {
            return new Channel(handle, handle.bindInterdomain(device.domid, remotePort));
        } catch (EvtchnException e) {
            throw new XenBusException(device + ": event channel " + remotePort
                    + " is not dom" + device.domid + "'s unbound port for dom0: " + e.getMessage());
        }
    }

    /**
     * The bus takes the device back: the handle is closed (its ports unbound) or, if
     * {@code park}, detached with its ports and their events for the next backend; further
     * binding fails.
     */
    synchronized void retire(boolean park) {
        retired = true;
        if (handle != null) {
            if (park) {
                handle.detach();
            } else {
                handle.close();
            }
            handle = null;
        }
    }

    private static String checked(String key) {
        if (key == null || key.isEmpty() || key.startsWith("/")) {
            throw new IllegalArgumentException("not a node below the device's directory: \"" + key + "\"");
        }
        return key;
    }
}
