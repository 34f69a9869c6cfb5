package xen.evtchn.impl.delivery;

import java.util.Objects;
import xen.evtchn.api.abi.EvtchnFifo;

/**
 * A domain's FIFO ABI state as values, beyond what guest memory holds (the event words and
 * control blocks are the guest's): where the control blocks and array pages are, the tail of
 * each queue, the queues whose tail port moved away, and the ports raised before their page came.
 *
 * @param controlBlockAt     per vCPU, the guest-physical address of its control block, or -1
 * @param arrayPageGfns      the event array's pages, in order
 * @param tails              per queue (vCPU * 16 + priority), its tail port, 0 for none
 * @param movedTails         queues whose tail port moved to another queue (ascending)
 * @param pendingWithoutPage ports raised while their page was missing (ascending)
 */
public record FifoImage(long[] controlBlockAt, long[] arrayPageGfns, int[] tails, int[] movedTails,
        int[] pendingWithoutPage) {
    public FifoImage {
        Objects.requireNonNull(controlBlockAt, "controlBlockAt");
        Objects.requireNonNull(arrayPageGfns, "arrayPageGfns");
        Objects.requireNonNull(movedTails, "movedTails");
        Objects.requireNonNull(pendingWithoutPage, "pendingWithoutPage");
        if (tails.length != controlBlockAt.length * EvtchnFifo.MAX_QUEUES) {
            throw new IllegalArgumentException("tails of " + tails.length + " queues for " + controlBlockAt.length + " vCPUs");
        }
    }
}
