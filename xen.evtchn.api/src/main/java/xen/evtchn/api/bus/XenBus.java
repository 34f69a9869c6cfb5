package xen.evtchn.api.bus;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The toolstack's side of xen-bus (libxl's device add and remove): it writes a device's frontend
 * and backend directories in XenStore, with the permissions that let each end read the other,
 * and reports their states. The bus registers it as a service.
 */
@ProviderType
public interface XenBus {
    /**
     * Adds {@code device}: both directories in one transaction, each end in state Initialising,
     * the frontend's owned by its domain and readable by domain 0, the backend's owned by domain 0
     * and readable by the frontend's domain, as libxl writes them.
     *
     * @throws IllegalArgumentException if the domain does not exist, or has a device of that type and id
     */
    void add(DeviceNodes device);

    /**
     * Removes a device as xl's device detach does: the backend goes to Closing with
     * {@code online = 0}, the frontend is asked to close, and both directories go once the
     * frontend has closed, or after {@code timeoutMillis} without it. A device with nothing
     * connected at either end (the frontend Closed or without a state, the backend Closed) goes at
     * once.
     *
     * @return whether the frontend closed in time
     * @throws IllegalArgumentException if there is no such device
     */
    boolean remove(int domid, String type, int devid, long timeoutMillis) throws InterruptedException;

    /** Every device there is, of every domain, by domid, type and devid. */
    List<DeviceStatus> devices();
}
