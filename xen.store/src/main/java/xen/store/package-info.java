/**
 * XenStore, a bundle of its own: the tree ({@code xen.store.tree}), the wire protocol
 * ({@code xen.store.wire}) and the component that serves every domain ({@code xen.store.backend}).
 * Nothing is exported.
 */
package xen.store;
