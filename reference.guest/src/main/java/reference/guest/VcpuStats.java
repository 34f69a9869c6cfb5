package reference.guest;

/**
 * One vCPU's counters at one moment.
 *
 * @param ticks           timer VIRQs handled as ticks
 * @param ipisSent        IPIs this vCPU sent (EVTCHNOP_send on the next vCPU's IPI port)
 * @param ipisReceived    IPI messages this vCPU took from its mailbox: equals what was sent to it
 *                        once the guest finished, however the events coalesced
 * @param ipiEvents       times its IPI port was dispatched (several sends may coalesce into one)
 * @param upcalls         upcalls taken
 * @param spuriousUpcalls upcalls that found no port to dispatch
 * @param hypercallErrors hypercalls that returned an error (the first one panics the guest)
 */
public record VcpuStats(int vcpu, long ticks, long ipisSent, long ipisReceived, long ipiEvents, long upcalls,
        long spuriousUpcalls, long hypercallErrors) {
    @Override
    public String toString() {
        return "vcpu" + vcpu + ": ticks=" + ticks + " ipis sent=" + ipisSent + " received=" + ipisReceived
                + " (events " + ipiEvents + ") upcalls=" + upcalls + " spurious=" + spuriousUpcalls
                + " hypercall errors=" + hypercallErrors;
    }
}
