/**
 * The bus: {@link xen.bus.core.BusComponent} (the DS component), one {@link xen.bus.core.Device}
 * per device and its state machine, the backend's view of it ({@link xen.bus.core.DeviceLink}),
 * the toolstack's writes ({@link xen.bus.core.Toolstack}) and the ranked backends of each type
 * ({@link xen.bus.core.Backends}). Nothing is exported.
 */
package xen.bus.core;
