/**
 * xen-bus devices for the host side: the toolstack adds a device to a domain
 * ({@link xen.evtchn.api.bus.XenBus}, as libxl's device add writes both ends in XenStore), and a
 * backend bundle serves every device of its type ({@link xen.evtchn.api.bus.XenBusBackend}, a
 * whiteboard service, as QEMU's XenDevice classes or Linux's xenbus backend drivers do). The bus
 * drives the frontend/backend state machine through XenStore and hands each backend its device's
 * nodes, grants and event channel; a backend that leaves hands its connected devices over to the
 * next one of its type with nothing lost. 1.0: the bus, backends, disks.
 */
@Export
@Version("1.0.0")
package xen.evtchn.api.bus;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
