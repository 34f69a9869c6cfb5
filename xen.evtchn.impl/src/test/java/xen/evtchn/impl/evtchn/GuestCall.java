package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;

/**
 * A hypercall from CPL 0 as a vCPU backend hands it over: registers {@code args}, addresses
 * guest-physical in {@code memory} (identity-mapped guest RAM, as the tests' guests keep it).
 */
public record GuestCall(int number, int domid, int vcpu, boolean longMode, long[] args, GuestMemory memory)
        implements HypercallContext {
    /** {@code args} as registers: padded with zeros to the five a hypercall has. */
    public static GuestCall of(int number, int domid, int vcpu, boolean longMode, GuestMemory memory, long... args) {
        return new GuestCall(number, domid, vcpu, longMode, Arrays.copyOf(args, 5), memory);
    }

    @Override
    public int cpl() {
        return 0;
    }

    @Override
    public long arg(int index) {
        return args[index];
    }

    @Override
    public MemorySegment guest(long address, long length) {
        return memory.slice(address, length);
    }

    @Override
    public String toString() {
        return "hypercall " + number + " dom" + domid + " vcpu " + vcpu + " args " + Arrays.toString(args);
    }
}
