/** How event upcalls reach a domain's vCPUs: the callback and per-vCPU vectors (Xen's hvm/irq.c). */
package xen.evtchn.impl.upcall;
