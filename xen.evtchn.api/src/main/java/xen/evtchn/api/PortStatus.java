package xen.evtchn.api;

import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;

/**
 * The answer of EVTCHNOP_status. {@code error} is 0 on success or a negated errno, in which case
 * the other fields are meaningless. {@code remoteDom}/{@code remotePort} are set for unbound
 * (remoteDom only) and interdomain ports, {@code virq} for VIRQ ports, {@code pirq} for PIRQs.
 */
public record PortStatus(int error, int status, int vcpu, int remoteDom, int remotePort, int virq, int pirq) {
    public static PortStatus failed(int error) {
        return new PortStatus(error, 0, 0, 0, 0, 0, 0);
    }

    /** The u32 at offset 16 of evtchn_status for this status. */
    public int unionA() {
        return switch (status) {
            case EvtchnStat.UNBOUND, EvtchnStat.INTERDOMAIN -> remoteDom;
            case EvtchnStat.VIRQ -> virq;
            case EvtchnStat.PIRQ -> pirq;
            default -> 0;
        };
    }

    /** The u32 at offset 20 of evtchn_status for this status. */
    public int unionB() {
        return status == EvtchnStat.INTERDOMAIN ? remotePort : 0;
    }

    @Override
    public String toString() {
        if (error != 0) {
            return Errno.describe(error);
        }
        return EvtchnStat.name(status) + " vcpu " + vcpu + switch (status) {
            case EvtchnStat.UNBOUND -> " remote dom " + remoteDom;
            case EvtchnStat.INTERDOMAIN -> " remote " + remoteDom + ":" + remotePort;
            case EvtchnStat.VIRQ -> " virq " + virq;
            case EvtchnStat.PIRQ -> " pirq " + pirq;
            default -> "";
        };
    }
}
