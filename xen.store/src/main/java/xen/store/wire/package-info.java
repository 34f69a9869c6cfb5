/**
 * XenStore's wire protocol (xs_wire.h): {@code xsd_sockmsg} messages, a {@link xen.store.wire.Connection}
 * per domain that answers them from the tree, and the shared ring page a guest talks through.
 */
package xen.store.wire;
