package kvm.provider.software;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.Hypercall;

/**
 * One hypercall from a software vCPU. The software guest runs 64-bit at CPL 0 with guest-virtual
 * equal to guest-physical, so guest addresses are RAM offsets.
 */
final class VcpuHypercall implements HypercallContext {
    private final int nr;
    private final int domid;
    private final int vcpu;
    private final long[] args;
    private final GuestMemory memory;

    /** {@code args} holds exactly {@link Hypercall#MAX_ARGS} registers. */
    VcpuHypercall(int nr, int domid, int vcpu, long[] args, GuestMemory memory) {
        this.nr = nr;
        this.domid = domid;
        this.vcpu = vcpu;
        this.args = args;
        this.memory = memory;
    }

    @Override
    public int number() {
        return nr;
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public int vcpu() {
        return vcpu;
    }

    @Override
    public boolean longMode() {
        return true;
    }

    @Override
    public int cpl() {
        return 0;
    }

    @Override
    public long arg(int index) {
        return args[Objects.checkIndex(index, Hypercall.MAX_ARGS)];
    }

    @Override
    public MemorySegment guest(long address, long length) {
        return memory.slice(address, length);
    }
}
