package xen.evtchn.api.bus;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A backend driver for one device type (QEMU's XenDevice class, a Linux xenbus backend driver):
 * register it as a service and the bus probes it with every device of {@link #type()} there is,
 * then with each new one. At most one backend serves a type; if several are registered, the one
 * with the highest service ranking does, and the others wait.
 * <p>
 * The bus calls a device's methods on its own thread, one call at a time and in the order the
 * states give; a backend serves the rings on threads of its own, never on a vCPU's.
 */
@ConsumerType
public interface XenBusBackend {
    /** The device type, as in XenStore paths: "vbd", "console", "vif". */
    String type();

    /**
     * A device of this type: check the toolstack's backend nodes (e.g. {@code params},
     * {@code mode}) and publish the features the frontend reads (e.g. {@code sectors},
     * {@code feature-flush-cache}). The bus moves the backend to InitWait after this returns, and
     * calls {@link DeviceBackend#connect()} once the frontend is ready.
     *
     * @throws XenBusException to refuse the device: the bus writes its message to the backend's
     *                         {@code error} node and closes the device
     */
    DeviceBackend probe(XenBusDevice device) throws XenBusException;
}
