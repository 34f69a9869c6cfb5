/**
 * XenStore for the host side (the toolstack and backends), shaped like libxenstore: a
 * {@link xen.evtchn.api.store.XenStore} service reads, writes, lists, removes and watches nodes and
 * runs transactions, always as domain 0 (privileged). A refusal is a
 * {@link xen.evtchn.api.store.XenStoreException} carrying Xen's error name (ENOENT, EACCES, ...).
 * 1.0: the service, its transactions and watches.
 */
@Export
@Version("1.0.0")
package xen.evtchn.api.store;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
