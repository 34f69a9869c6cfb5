package xen.evtchn.api.host;

import xen.evtchn.api.PortStatus;

/**
 * One port of a domain as tools see it: its EVTCHNOP_status answer, the guest's pending and mask
 * bits, and the host's counters since the port was bound (while the host counts:
 * {@link GuestHost#countsEvents()}).
 *
 * @param port    the port number
 * @param status  what EVTCHNOP_status answers for it
 * @param pending its pending bit in the guest's shared_info
 * @param masked  its mask bit in the guest's shared_info
 * @param sent    events sent from this port (EVTCHNOP_send, or a backend's notify)
 * @param raised  events raised on this port (each one counts, also one that found it pending)
 */
public record PortInfo(int port, PortStatus status, boolean pending, boolean masked, long sent, long raised) {
}
