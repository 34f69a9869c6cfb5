package xen.evtchn.api.bus;

import org.osgi.annotation.versioning.ConsumerType;

/** One device as its backend serves it ({@link XenBusBackend#probe}). */
@ConsumerType
public interface DeviceBackend {
    /**
     * The frontend has published its rings (state Initialised or Connected): read its nodes
     * ({@code ring-ref}, {@code event-channel}, {@code protocol}, ...), map the rings, bind the
     * port ({@link XenBusDevice#bindFrontendPort}) and start serving. The bus writes Connected
     * after this returns.
     * <p>
     * Also called when this backend takes over a device that the previous backend of its type
     * handed over ({@link XenBusDevice#resumed()} is true then): every request the previous one
     * took from the ring was answered, so serving starts at the ring's answered position.
     *
     * @throws XenBusException if the frontend's nodes are missing or wrong, or a ring or port cannot be had;
     *                         the backend releases what it took before throwing (the bus closes the
     *                         port), and {@link #disconnect()} is not called
     */
    void connect() throws XenBusException;

    /**
     * Stop serving for good: the frontend closes, the device is removed or its domain destroyed.
     * Requests in flight are finished or answered with an error; rings are unmapped. The bus
     * closes the device's port afterwards. Called only after a successful {@link #connect()}.
     */
    void disconnect();

    /**
     * This backend leaves (its bundle stops or is updated) while the device stays connected: take
     * no more requests, finish and answer every request already taken from the ring, and release
     * the rings. The bus then parks the device's port, with the events that come meanwhile, for the
     * next backend of this type, which {@link #connect()}s with {@link XenBusDevice#resumed()}.
     * Called only after a successful {@link #connect()}.
     */
    void handOver();
}
