package reference.guest;

/**
 * One vCPU's FIFO-mode counters at one moment (all 0 on the 2-level ABI).
 *
 * @param ports      FIFO ports this vCPU bound (beyond its timer and IPI ports)
 * @param sent       events it sent on them, in batches of {@link GuestConfig#FIFO_BATCH}
 * @param handled    events on them its upcall handler consumed
 * @param outOfOrder events consumed before one of their batch with a higher priority, or before
 *                   one of their batch and priority sent earlier
 * @param duplicates events consumed on a port with none outstanding
 * @param lost       events still outstanding when their port's turn came again
 */
public record FifoStats(int vcpu, long ports, long sent, long handled, long outOfOrder, long duplicates, long lost) {
    @Override
    public String toString() {
        return "vcpu" + vcpu + ": fifo ports=" + ports + " sent=" + sent + " handled=" + handled + " out of order="
                + outOfOrder + " duplicates=" + duplicates + " lost=" + lost;
    }
}
