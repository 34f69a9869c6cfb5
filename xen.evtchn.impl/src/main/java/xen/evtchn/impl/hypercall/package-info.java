/** The hypercall dispatcher and the hypercall families a Xen HVM guest needs. */
package xen.evtchn.impl.hypercall;
