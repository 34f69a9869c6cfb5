/** A whole host: domains, the hypercall dispatcher with every family, timers. */
package xen.evtchn.impl.host;
