package reference.guest;

import xen.evtchn.api.abi.Errno;

/**
 * A hypercall that failed: on which vCPU, which operation (e.g. "event_channel_op(EVTCHNOP_send)
 * port 5"), and the errno it returned (positive).
 */
public record HypercallError(int vcpu, String op, int errno) {
    @Override
    public String toString() {
        return "vCPU " + vcpu + ": " + op + " failed: -" + Errno.name(errno);
    }
}
