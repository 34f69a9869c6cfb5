package reference.guest;

import java.util.concurrent.atomic.AtomicLong;

/** One vCPU's live counters: written by the vCPU, read by anyone. */
final class VcpuCounters {
    final AtomicLong ticks = new AtomicLong();
    final AtomicLong ipisSent = new AtomicLong();
    final AtomicLong ipisReceived = new AtomicLong();
    final AtomicLong ipiEvents = new AtomicLong();
    final AtomicLong upcalls = new AtomicLong();
    final AtomicLong spuriousUpcalls = new AtomicLong();
    final AtomicLong hypercallErrors = new AtomicLong();
    final AtomicLong fifoPorts = new AtomicLong();
    final AtomicLong fifoSent = new AtomicLong();
    final AtomicLong fifoHandled = new AtomicLong();
    final AtomicLong fifoOutOfOrder = new AtomicLong();
    final AtomicLong fifoDuplicates = new AtomicLong();
    final AtomicLong fifoLost = new AtomicLong();

    FifoStats fifoSnapshot(int vcpu) {
        return new FifoStats(vcpu, fifoPorts.get(), fifoSent.get(), fifoHandled.get(), fifoOutOfOrder.get(),
                fifoDuplicates.get(), fifoLost.get());
    }

    VcpuStats snapshot(int vcpu) {
        return new VcpuStats(vcpu, ticks.get(), ipisSent.get(), ipisReceived.get(), ipiEvents.get(),
                upcalls.get(), spuriousUpcalls.get(), hypercallErrors.get());
    }
}
