/** One codec per EVTCHNOP argument struct: read, write, and write the out fields only. */
@Export
@Version("1.0.0")
package xen.evtchn.api.abi.evtchnop;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
