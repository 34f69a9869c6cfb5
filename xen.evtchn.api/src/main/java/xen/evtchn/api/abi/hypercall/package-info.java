/**
 * Codecs of the argument structs of hypercalls other than event_channel_op. 1.1: the runstate
 * area ({@link xen.evtchn.api.abi.hypercall.RunstateArea}).
 */
@Export
@Version("1.1.0")
package xen.evtchn.api.abi.hypercall;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
