/**
 * XenStore, a bundle of its own: the tree ({@code xen.store.tree}) and the wire protocol
 * ({@code xen.store.wire}). Nothing is exported yet: the host wires it to domains later.
 */
package xen.store;
