package xen.evtchn.api.bus;

import org.osgi.annotation.versioning.ProviderType;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.GrantTables;

/**
 * A device on the bus as its backend sees it: its two XenStore directories, the frontend domain's
 * grants and the device's event channel. Everything the frontend wrote is untrusted: read it with
 * {@link #frontendInt} or check it before use.
 */
@ProviderType
public interface XenBusDevice {
    /** The frontend's domain. */
    int domid();

    /** The device type ("vbd"). */
    String type();

    /** The device id: the last element of both paths (for a vbd, its virtual-device number). */
    int devid();

    /** {@code /local/domain/0/backend/TYPE/DOMID/DEVID}. */
    String backendPath();

    /** {@code /local/domain/DOMID/device/TYPE/DEVID}. */
    String frontendPath();

    /** A node under the backend's directory, or null if it does not exist. */
    String backend(String key);

    /** Writes a node under the backend's directory (where the frontend may read it). */
    void writeBackend(String key, String value);

    /** A node under the frontend's directory, or null if it does not exist. */
    String frontend(String key);

    /**
     * A whole number under the frontend's directory, {@code min..max}.
     *
     * @throws XenBusException naming the node if it is missing, malformed or out of range
     */
    long frontendNumber(String key, long min, long max) throws XenBusException;

    /**
     * Whether the current {@link DeviceBackend#connect()} takes over a connection the previous
     * backend of this type handed over, rather than a new one.
     */
    boolean resumed();

    /** The grant tables, through which the backend reaches the pages the frontend's domain granted it. */
    GrantTables grants();

    /**
     * Binds the device's event channel to the frontend's port {@code remotePort} (the port its
     * {@code event-channel} node names), or, when resuming, takes over the binding the previous
     * backend left with the events that came since. The bus owns the handle: it closes it at
     * {@link DeviceBackend#disconnect()} and parks it at {@link DeviceBackend#handOver()}. A device
     * with several ports (one per queue) binds each; every binding is on the same handle.
     *
     * @throws XenBusException if the port is not the frontend domain's unbound port offered to domain 0
     */
    Channel bindFrontendPort(int remotePort) throws XenBusException;

    /** A bound event channel: the handle to wait and notify on, and the host's port. */
    record Channel(EvtchnHandle handle, int port) {
    }
}
