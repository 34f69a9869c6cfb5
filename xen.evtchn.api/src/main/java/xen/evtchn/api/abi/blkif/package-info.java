/**
 * The PV block protocol (Xen's public/io/blkif.h on the ring of public/io/ring.h), native x86-64
 * layout: the operation and status numbers and XenStore node names ({@link xen.evtchn.api.abi.blkif.Blkif}),
 * the shared ring's header and slots ({@link xen.evtchn.api.abi.blkif.BlkifRing}), a request and a
 * response with their codecs ({@link xen.evtchn.api.abi.blkif.BlkifRequest},
 * {@link xen.evtchn.api.abi.blkif.BlkifResponse}). Used by block backends and by the frontends
 * that test them. 1.0: single- and multi-page rings, read, write, write barrier, flush.
 */
@Export
@Version("1.0.0")
package xen.evtchn.api.abi.blkif;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
