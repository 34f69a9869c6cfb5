/** The Xen guest ABI: hypercall, EVTCHNOP and VIRQ numbers, errno, shared_info and vcpu_info layouts. 1.1: the FIFO ABI ({@link xen.evtchn.api.abi.EvtchnFifo}). */
@Export
@Version("1.1.0")
package xen.evtchn.api.abi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
