/** Codecs of the argument structs of hypercalls other than event_channel_op. */
@Export
@Version("1.0.0")
package xen.evtchn.api.abi.hypercall;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
