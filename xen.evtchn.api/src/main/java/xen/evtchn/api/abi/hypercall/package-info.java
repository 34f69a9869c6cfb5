/**
 * Codecs of the argument structs of hypercalls other than event_channel_op. 1.1: the runstate
 * area ({@link xen.evtchn.api.abi.hypercall.RunstateArea}). 1.2: grant_table_op's query_size,
 * setup_table, set_version and get_version ({@code Gnttab*}).
 */
@Export
@Version("1.2.0")
package xen.evtchn.api.abi.hypercall;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
