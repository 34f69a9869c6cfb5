/**
 * Grant tables, version 1: one guest domain's table, its frames in the guest's memory and the
 * entries pinned by the host's backends ({@link xen.evtchn.impl.grant.GrantTable}), and the host
 * backends' map and copy of granted frames ({@link xen.evtchn.impl.grant.HostGrants}).
 */
package xen.evtchn.impl.grant;
