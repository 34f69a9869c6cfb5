package xen.evtchn.impl.delivery;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.impl.domain.Domain;

/**
 * Where a domain's shared_info and each vCPU's vcpu_info are. As on Xen, shared_info exists from
 * the start in a page of the hypervisor's own (here: off-heap host memory), and the guest later
 * asks for it to appear at a frame of its choosing; its contents move with it. A vCPU at or above
 * {@link SharedInfoLayout#LEGACY_VCPUS} has no vcpu_info until it registers one, and its bits go
 * to a dummy, as Xen's dummy_vcpu_info.
 */
public final class VcpuInfos {
    private final Arena arena = Arena.ofAuto();
    private final GuestWidth width;
    private final MemorySegment dummy;
    private final MemorySegment[] registered;
    /** Guest-physical address of each registered vcpu_info, {@link #NOWHERE} if none (for a save). */
    private final long[] registeredAt;
    private final AtomicReferenceArray<MemorySegment> current;
    private volatile MemorySegment sharedInfo;
    private long sharedInfoGfn = NOWHERE;

    /** Neither mapped nor registered: the page or record is the hypervisor's own. */
    public static final long NOWHERE = -1;

    public VcpuInfos(GuestWidth width, int vcpus) {
        this.width = width;
        this.dummy = arena.allocate(VcpuInfoLayout.SIZE, VcpuInfoLayout.SIZE);
        this.registered = new MemorySegment[vcpus];
        this.registeredAt = new long[vcpus];
        Arrays.fill(registeredAt, NOWHERE);
        this.current = new AtomicReferenceArray<>(vcpus);
        this.sharedInfo = arena.allocate(GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE);
        refresh();
    }

    public MemorySegment sharedInfo() {
        return sharedInfo;
    }

    /** vCPU {@code vcpu}'s vcpu_info (64 bytes). */
    public MemorySegment of(int vcpu) {
        return current.get(vcpu);
    }

    /** The guest frame shared_info is mapped at, or {@link #NOWHERE}. */
    public long sharedInfoGfn() {
        return sharedInfoGfn;
    }

    /** The guest-physical address of vCPU {@code vcpu}'s registered vcpu_info, or {@link #NOWHERE}. */
    public long registeredAt(int vcpu) {
        return registeredAt[vcpu];
    }

    /** Domain write lock held: shared_info now lives in guest frame {@code gfn}, {@code page}; what it held moves along. */
    public void moveSharedInfo(long gfn, MemorySegment page) {
        MemorySegment old = sharedInfo;
        long size = width.sharedInfo().size();
        page.asSlice(0, size).copyFrom(old.asSlice(0, size));
        adoptSharedInfo(gfn, page);
    }

    /** Domain write lock held (or the domain not yet running): shared_info is {@code page} as it is (a restore). */
    public void adoptSharedInfo(long gfn, MemorySegment page) {
        sharedInfo = page;
        sharedInfoGfn = gfn;
        refresh();
    }

    /**
     * Domain write lock held: soft reset. shared_info leaves the guest's memory for a page of the
     * hypervisor's own again (with what it held), and every vCPU forgets its registered vcpu_info.
     */
    public void reset() {
        Arrays.fill(registered, null);
        Arrays.fill(registeredAt, NOWHERE);
        moveSharedInfo(NOWHERE, arena.allocate(GuestMemory.PAGE_SIZE, GuestMemory.PAGE_SIZE));
    }

    /**
     * Domain write lock held: vCPU {@code vcpu}'s vcpu_info now lives at {@code info}, guest-physical
     * {@code gpa}, with what the old one held. False if the vCPU registered one already.
     */
    public boolean register(int vcpu, long gpa, MemorySegment info) {
        if (registered[vcpu] != null) {
            return false;
        }
        info.copyFrom(current.get(vcpu));
        adopt(vcpu, gpa, info);
        return true;
    }

    /** Domain write lock held (or the domain not yet running): vCPU {@code vcpu}'s vcpu_info is {@code info} as it is (a restore). */
    public void adopt(int vcpu, long gpa, MemorySegment info) {
        registered[vcpu] = info;
        registeredAt[vcpu] = gpa;
        refresh();
    }

    private void refresh() {
        for (int v = 0; v < registered.length; v++) {
            MemorySegment info = registered[v];
            if (info == null) {
                info = v < SharedInfoLayout.LEGACY_VCPUS
                        ? sharedInfo.asSlice(width.sharedInfo().vcpuInfo(v), VcpuInfoLayout.SIZE)
                        : dummy;
            }
            current.set(v, info);
        }
    }
}
