/** Event channels: port tables, 2-level delivery in guest memory, every EVTCHNOP, host-side backends. */
package xen.evtchn.impl;
