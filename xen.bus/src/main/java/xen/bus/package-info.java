/**
 * xen-bus for the host: the toolstack's device add and remove and the backend core that drives
 * each device's frontend/backend state machine through XenStore (docs/XENBUS.md). Nothing is
 * exported: the bundle offers the api's {@link xen.evtchn.api.bus.XenBus} and serves the api's
 * {@link xen.evtchn.api.bus.XenBusBackend} whiteboard.
 */
package xen.bus;
