package xen.bus.testing;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;

/**
 * A hypercall as a 64-bit guest at CPL 0 on vCPU 0 makes it, its addresses guest-physical (the
 * software guest's paging): the fixture's way to act as the guest's kernel through the host's
 * real hypercall handler.
 */
record GuestHypercall(int number, int domid, long[] args, GuestMemory memory) implements HypercallContext {
    @Override
    public int vcpu() {
        return 0;
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
        return index < args.length ? args[index] : 0;
    }

    @Override
    public MemorySegment guest(long address, long length) {
        return memory.slice(address, length);
    }
}
