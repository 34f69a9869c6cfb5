/**
 * The bus's part of a domain's save stream: which devices the domain had and which of them were
 * connected, as values and bytes ({@link xen.bus.save.BusRecord}). Nothing is exported.
 */
package xen.bus.save;
