/**
 * The port table of one owner of ports: packed 64-bit entries ({@link xen.evtchn.impl.port.PortEntry}),
 * O(1) allocation from a free bitmap, valid-port growth in groups ({@link xen.evtchn.impl.port.PortTable}),
 * and the tools' per-port counters ({@link xen.evtchn.impl.port.PortCounters}). Pure data structures:
 * the locks are their owners'.
 */
package xen.evtchn.impl.port;
