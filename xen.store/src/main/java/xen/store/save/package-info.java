/**
 * The store's part of a domain's save stream and of its hand-over to a next instance of the
 * bundle: a domain's nodes, watches, transactions and ring connection as bytes, and back, every
 * field checked (docs/SAVE-RESTORE.md, "The xen.store part").
 */
package xen.store.save;
