/**
 * The XenStore tree as xenstored keeps it: nodes with values and permissions, per-domain quotas,
 * transactions and watches, one {@link xen.store.tree.Store} behind one lock. Pure data, no I/O.
 */
package xen.store.tree;
