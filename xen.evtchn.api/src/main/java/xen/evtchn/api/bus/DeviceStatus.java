package xen.evtchn.api.bus;

/**
 * A device as {@link XenBus#devices()} reports it: both ends' states (XenbusState values, or -1
 * if the node is missing or malformed), the backend's {@code error} node if any, and whether a
 * backend of its type serves it.
 */
public record DeviceStatus(int domid, String type, int devid, int backendState, int frontendState, boolean served, String error) {
}
