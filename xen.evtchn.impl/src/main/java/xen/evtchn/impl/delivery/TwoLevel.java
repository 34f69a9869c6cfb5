package xen.evtchn.impl.delivery;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SharedInfoLayout;

/**
 * The 2-level ABI: evtchn_pending and evtchn_mask bitmaps in shared_info, a pending_sel word and
 * upcall_pending in each vCPU's vcpu_info. Every update is an atomic read-modify-write on the
 * guest's own words (the guest clears and masks them concurrently), in Xen's order.
 */
public final class TwoLevel implements EventDelivery {
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final boolean wide;
    private final int wordShift;
    private final int bitMask;
    private final int wordBytes;
    private final long pendingOffset;
    private final long maskOffset;
    private final long pendingSelOffset;
    private final VcpuInfos vcpuInfos;
    private final Upcalls upcalls;
    /** Ports the bitmaps have (4096 or 1024); a port valid beyond them (after a FIFO reset) has no bits. */
    private final int ports;

    public TwoLevel(GuestWidth width, VcpuInfos vcpuInfos, Upcalls upcalls) {
        SharedInfoLayout si = width.sharedInfo();
        this.wide = width == GuestWidth.X86_64;
        this.wordShift = Integer.numberOfTrailingZeros(width.wordBits());
        this.bitMask = width.wordBits() - 1;
        this.wordBytes = width.wordBytes();
        this.pendingOffset = si.evtchnPending();
        this.maskOffset = si.evtchnMask();
        this.pendingSelOffset = width.vcpuInfo().pendingSel();
        this.vcpuInfos = vcpuInfos;
        this.upcalls = upcalls;
        this.ports = width.twoLevelPorts();
    }

    public int ports() {
        return ports;
    }

    /** Takes the port's pending bit (test and clear): true if it was set. */
    public boolean takePending(int port) {
        return port < ports && testAndClear(vcpuInfos.sharedInfo(), pendingOffset + (long) (port >>> wordShift) * wordBytes,
                port & bitMask);
    }

    /** Marks vCPU {@code vcpu}'s upcall pending (the FIFO ABI's READY newly set). */
    public void markEventsPending(int vcpu) {
        markEventsPending(vcpu, vcpuInfos.of(vcpu));
    }

    @Override
    public void setPending(int port, int vcpu) {
        if (port >= ports) {
            return;
        }
        MemorySegment shared = vcpuInfos.sharedInfo();
        long word = (long) (port >>> wordShift) * wordBytes;
        int bit = port & bitMask;
        if (testAndSet(shared, pendingOffset + word, bit)) {
            return;
        }
        if (!test(shared, maskOffset + word, bit)) {
            selectAndUpcall(port, vcpu);
        }
        // Pollers last, as Xen's evtchn_check_pollers: a poll woken by this port finds upcall_pending set too.
        upcalls.portPending(port);
    }

    @Override
    public void unmask(int port, int vcpu) {
        if (port >= ports) {
            return;
        }
        MemorySegment shared = vcpuInfos.sharedInfo();
        long word = (long) (port >>> wordShift) * wordBytes;
        int bit = port & bitMask;
        if (testAndClear(shared, maskOffset + word, bit) && test(shared, pendingOffset + word, bit)) {
            selectAndUpcall(port, vcpu);
        }
    }

    private void selectAndUpcall(int port, int vcpu) {
        MemorySegment info = vcpuInfos.of(vcpu);
        if (!testAndSet(info, pendingSelOffset, port >>> wordShift)) {
            markEventsPending(vcpu, info);
        }
    }

    @Override
    public void vcpuInfoMoved(int vcpu) {
        MemorySegment info = vcpuInfos.of(vcpu);
        if (wide) {
            U64.getAndBitwiseOr(info, pendingSelOffset, -1L);
        } else {
            U32.getAndBitwiseOr(info, pendingSelOffset, -1);
        }
        markEventsPending(vcpu, info);
    }

    /** Sets upcall_pending (bit 0 of the first byte, as Xen's test_and_set_bit) and upcalls if it was clear. */
    public void markEventsPending(int vcpu, MemorySegment info) {
        if (((int) U32.getAndBitwiseOr(info, 0L, 1) & 1) == 0) {
            upcalls.upcall(vcpu);
        }
    }

    @Override
    public void clearPending(int port) {
        if (port >= ports) {
            return;
        }
        testAndClear(vcpuInfos.sharedInfo(), pendingOffset + (long) (port >>> wordShift) * wordBytes, port & bitMask);
    }

    @Override
    public boolean isPending(int port) {
        return port < ports && test(vcpuInfos.sharedInfo(), pendingOffset + (long) (port >>> wordShift) * wordBytes, port & bitMask);
    }

    @Override
    public boolean isMasked(int port) {
        return port >= ports || test(vcpuInfos.sharedInfo(), maskOffset + (long) (port >>> wordShift) * wordBytes, port & bitMask);
    }

    private boolean testAndSet(MemorySegment s, long offset, int bit) {
        if (wide) {
            long m = 1L << bit;
            return ((long) U64.getAndBitwiseOr(s, offset, m) & m) != 0;
        }
        int m = 1 << bit;
        return ((int) U32.getAndBitwiseOr(s, offset, m) & m) != 0;
    }

    private boolean testAndClear(MemorySegment s, long offset, int bit) {
        if (wide) {
            long m = 1L << bit;
            return ((long) U64.getAndBitwiseAnd(s, offset, ~m) & m) != 0;
        }
        int m = 1 << bit;
        return ((int) U32.getAndBitwiseAnd(s, offset, ~m) & m) != 0;
    }

    private boolean test(MemorySegment s, long offset, int bit) {
        if (wide) {
            return ((long) U64.getVolatile(s, offset) & 1L << bit) != 0;
        }
        return ((int) U32.getVolatile(s, offset) & 1 << bit) != 0;
    }
}
