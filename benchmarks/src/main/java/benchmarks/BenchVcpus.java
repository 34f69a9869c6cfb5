package benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;

/**
 * A vCPU backend that only counts upcalls, so the benchmarks measure event channel work alone:
 * what a backend does with an upcall (a KVM ioctl, waking a thread) is measured elsewhere.
 */
final class BenchVcpus implements VcpuBackend, GuestMemory {
    private final int vcpus;
    private final MemorySegment ram;
    long upcalls;

    BenchVcpus(int vcpus, long ramBytes) {
        this.vcpus = vcpus;
        this.ram = Arena.ofAuto().allocate(ramBytes, PAGE_SIZE);
    }

    @Override
    public int vcpuCount() {
        return vcpus;
    }

    @Override
    public long tscHz() {
        return 1_000_000_000L;
    }

    @Override
    public long tsc() {
        return System.nanoTime();
    }

    @Override
    public GuestMemory memory() {
        return this;
    }

    @Override
    public MemorySegment ram() {
        return ram;
    }

    @Override
    public void deliverUpcall(int vcpu, UpcallRoute route) {
        upcalls++;
    }
}
