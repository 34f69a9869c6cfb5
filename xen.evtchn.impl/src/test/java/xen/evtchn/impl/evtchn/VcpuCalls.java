package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import xen.evtchn.api.HypercallHandler;

/**
 * One vCPU of a guest making hypercalls as a guest does: each struct written into the vCPU's own
 * argument page of guest RAM at the reference offsets (xen-abi.md, written out literally), the call
 * handed to the host's dispatcher from the calling thread, out fields read back from RAM, in
 * 64-bit or 32-bit mode. Several of these on different threads are vCPUs running at once.
 */
final class VcpuCalls {
    static final int SELF = 0x7FF0;
    static final int EVENT_CHANNEL_OP = 32;
    static final int SCHED_OP = 29;
    static final int MEMORY_OP = 12;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final HypercallHandler dispatcher;
    private final int domid;
    private final int vcpu;
    private final boolean longMode;
    private final MemorySegment ram;
    /** This vCPU's argument struct: its own, so that vCPUs calling at once do not share one. */
    private final long arg;

    VcpuCalls(HypercallHandler dispatcher, int domid, int vcpu, boolean longMode, MemorySegment ram, long argGpa) {
        this.dispatcher = dispatcher;
        this.domid = domid;
        this.vcpu = vcpu;
        this.longMode = longMode;
        this.ram = ram;
        this.arg = argGpa;
    }

    /** A hypercall from this vCPU at CPL 0; its struct, if any, is at {@link #arg}. */
    long call(int number, long arg0) {
        return dispatcher.hypercall(GuestCall.of(number, domid, vcpu, longMode, () -> ram, arg0, arg));
    }

    private void clear(int size) {
        ram.asSlice(arg, size).fill((byte) 0);
    }

    private long evtchn(int cmd) {
        return call(EVENT_CHANNEL_OP, cmd);
    }

    /** EVTCHNOP_bind_ipi: the port, or the negated errno. */
    int bindIpi(int onVcpu) {
        clear(8);
        ram.set(U32, arg, onVcpu);
        long rc = evtchn(7);
        return rc == 0 ? ram.get(U32, arg + 4) : (int) rc;
    }

    /** EVTCHNOP_alloc_unbound(SELF, {@code remoteDom}): the port, or the negated errno. */
    int allocUnbound(int remoteDom) {
        clear(8);
        ram.set(U16, arg, (short) SELF);
        ram.set(U16, arg + 2, (short) remoteDom);
        long rc = evtchn(6);
        return rc == 0 ? ram.get(U32, arg + 4) : (int) rc;
    }

    /** EVTCHNOP_bind_interdomain: the new local port, or the negated errno. */
    int bindInterdomain(int remoteDom, int remotePort) {
        clear(12);
        ram.set(U16, arg, (short) remoteDom);
        ram.set(U32, arg + 4, remotePort);
        long rc = evtchn(0);
        return rc == 0 ? ram.get(U32, arg + 8) : (int) rc;
    }

    long send(int port) {
        clear(4);
        ram.set(U32, arg, port);
        return evtchn(4);
    }

    long close(int port) {
        clear(4);
        ram.set(U32, arg, port);
        return evtchn(3);
    }

    /** EVTCHNOP_status of an own port: its EVTCHNSTAT, or the negated errno. */
    int status(int port) {
        clear(24);
        ram.set(U16, arg, (short) SELF);
        ram.set(U32, arg + 4, port);
        long rc = evtchn(5);
        return rc == 0 ? ram.get(U32, arg + 8) : (int) rc;
    }

    long reset() {
        clear(2);
        ram.set(U16, arg, (short) SELF);
        return evtchn(10);
    }

    long initControl(long gfn, int offset, int forVcpu) {
        clear(24);
        ram.set(U64, arg, gfn);
        ram.set(U32, arg + 8, offset);
        ram.set(U32, arg + 12, forVcpu);
        return evtchn(11);
    }

    long expandArray(long gfn) {
        clear(8);
        ram.set(U64, arg, gfn);
        return evtchn(12);
    }

    long setPriority(int port, int priority) {
        clear(8);
        ram.set(U32, arg, port);
        ram.set(U32, arg + 4, priority);
        return evtchn(13);
    }

    /** SCHEDOP_shutdown with {@code reason}. */
    long shutdown(int reason) {
        clear(4);
        ram.set(U32, arg, reason);
        return call(SCHED_OP, 2);
    }

    /** XENMEM_add_to_physmap of shared_info (space 0, idx 0) at {@code gfn}; idx and gpfn are 32-bit for a 32-bit caller. */
    long mapSharedInfo(long gfn) {
        clear(24);
        ram.set(U16, arg, (short) SELF);
        ram.set(U16, arg + 2, (short) 1);
        if (longMode) {
            ram.set(U64, arg + 16, gfn);
        } else {
            ram.set(U32, arg + 12, (int) gfn);
        }
        return call(MEMORY_OP, 7);
    }
}
