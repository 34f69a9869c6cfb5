/** The Xen guest ABI: hypercall, EVTCHNOP and VIRQ numbers, errno, shared_info and vcpu_info layouts. */
@Export
@Version("1.0.0")
package xen.evtchn.api.abi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
