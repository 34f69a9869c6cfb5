package xen.evtchn.api.bus;

/**
 * A device refused by its backend or the bus: a missing or malformed node, a ring that cannot be
 * mapped, a port that cannot be bound. The bus writes the message to the backend's {@code error}
 * node, as Linux's xenbus_dev_fatal does, and closes the device.
 */
public class XenBusException extends Exception {
    private static final long serialVersionUID = 1L;

    public XenBusException(String message) {
        super(message);
    }

    public XenBusException(String message, Throwable cause) {
        super(message, cause);
    }
}
