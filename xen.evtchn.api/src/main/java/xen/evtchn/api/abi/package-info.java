/**
 * The Xen guest ABI: hypercall, EVTCHNOP and VIRQ numbers, errno, shared_info and vcpu_info
 * layouts. 1.1: the FIFO ABI ({@link xen.evtchn.api.abi.EvtchnFifo}). 1.2: the PV console ring
 * ({@link xen.evtchn.api.abi.ConsoleRing}). 1.3: grant tables, version 1
 * ({@link xen.evtchn.api.abi.GnttabOp}, {@link xen.evtchn.api.abi.GrantEntry},
 * {@link xen.evtchn.api.abi.GrantStatus}). 1.4: xen-bus device states
 * ({@link xen.evtchn.api.abi.XenbusState}).
 */
@Export
@Version("1.4.0")
package xen.evtchn.api.abi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
