package kvm.provider.xen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import kvm.provider.kvm.KvmVm;
import kvm.provider.os.Libc;
import kvm.provider.os.SharedArenas;
import xen.evtchn.api.GuestMemory;

/**
 * A KVM domain's memory: RAM (with the special frames) in memory slot 0 at guest-physical 0, and
 * extra pages outside it, each an anonymous mapping in a KVM memory slot of its own (QEMU's Xen
 * emulation overlays its pages the same way), freed when unmapped or when the domain ends.
 */
final class KvmGuestMemory implements GuestMemory {
    /**
     * From the I/O APIC (0xfec00000) to 4 GiB: the APICs' window, where the guest expects them
     * with or without the in-kernel irqchip, and KVM's TSS pages ({@link KvmBackend#TSS_ADDR}).
     */
    static final long PLATFORM_WINDOW = KvmBackend.APIC_WINDOW;
    static final long FOUR_GIB = 1L << 32;

    private final MemorySegment ram;
    private final KvmVm vm;
    /** User memory slots this VM has (KVM_CAP_NR_MEMSLOTS); slot 0 is RAM. */
    private final int slots;
    /** The guest's physical address width (CPUID 0x80000008 EAX[7:0]). */
    private final int physBits;
    private final Map<Long, ExtraPage> extras = new ConcurrentHashMap<>();
    private final BitSet usedSlots = new BitSet();
    private boolean closed;

    /** An extra page, its slot, and the arena that unmaps it. */
    private record ExtraPage(int slot, Arena arena, MemorySegment page) {
    }

    KvmGuestMemory(MemorySegment ram, KvmVm vm, int slots, int physBits) {
        this.ram = ram;
        this.vm = vm;
        this.slots = slots;
        this.physBits = physBits;
        usedSlots.set(0);
    }

    @Override
    public MemorySegment ram() {
        return ram;
    }

    /**
     * A zeroed page in a new memory slot at {@code gfn}; null for a gfn in RAM or the special
     * frames, in {@link #PLATFORM_WINDOW} .. 4 GiB, at or beyond 2^physBits, already an extra page,
     * when every slot is taken, or once the domain ended.
     */
    @Override
    public synchronized MemorySegment mapExtraPage(long gfn) {
        int slot = usedSlots.nextClearBit(0);
        if (closed || refused(gfn) || extras.containsKey(gfn) || slot >= slots) {
            return null;
        }
        Arena arena = Arena.ofShared();
        MemorySegment page = Libc.mmapAnonymous("an extra guest page", PAGE_SIZE)
                .reinterpret(PAGE_SIZE, arena, s -> Libc.munmap(s.reinterpret(PAGE_SIZE)));
        try {
            vm.setUserMemoryRegion(slot, gfn * PAGE_SIZE, page);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        usedSlots.set(slot);
        extras.put(gfn, new ExtraPage(slot, arena, page));
        return page;
    }

    private boolean refused(long gfn) {
        long gpa = gfn * PAGE_SIZE;
        return gfn < ram.byteSize() / PAGE_SIZE || gfn >= 1L << (physBits - 12)
                || gpa >= PLATFORM_WINDOW && gpa < FOUR_GIB;
    }

    /** Deletes the page's slot, then unmaps the page. */
    @Override
    public synchronized boolean unmapExtraPage(long gfn) {
        ExtraPage e = extras.remove(gfn);
        if (e == null) {
            return false;
        }
        if (!closed) {
            vm.setUserMemoryRegion(e.slot(), gfn * PAGE_SIZE, MemorySegment.NULL);
        }
        usedSlots.clear(e.slot());
        SharedArenas.close(e.arena()); // waits for a backend's I/O on the page, if one is under way
        return true;
    }

    @Override
    public MemorySegment extraPage(long gfn) {
        ExtraPage e = extras.get(gfn);
        return e == null ? null : e.page();
    }

    /** How many extra pages are mapped. */
    synchronized int extraPages() {
        return extras.size();
    }

    /** The VM is closed (its slots with it): frees every extra page. */
    synchronized void closed() {
        closed = true;
        for (Long gfn : extras.keySet()) {
            unmapExtraPage(gfn);
        }
    }
}
