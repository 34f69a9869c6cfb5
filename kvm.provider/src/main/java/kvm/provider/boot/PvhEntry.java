package kvm.provider.boot;

import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSegment;
import kvm.provider.kvm.KvmSregs;
import kvm.provider.kvm.KvmVcpu;

/**
 * Puts a vCPU in the state an unmodified PVH guest expects at its XEN_ELFNOTE_PHYS32_ENTRY (Xen's
 * docs/misc/pvh.pandoc): 32-bit flat protected mode with paging off, ebx = the guest-physical
 * address of its {@link HvmStartInfo}. The guest builds its own GDT, page tables and long mode;
 * the selectors, GDTR and IDTR are unspecified, so they are left as KVM has them (no GDT is written).
 */
public final class PvhEntry {
    /** Selectors given to the hidden segment state (values the PVH ABI leaves unspecified). */
    static final int CODE_SELECTOR = 0x8, DATA_SELECTOR = 0x10, TSS_SELECTOR = 0x18;
    /** Segment types: execute/read accessed code, read/write accessed data, busy 32-bit TSS, LDT. */
    static final int TYPE_CODE = 11, TYPE_DATA = 3, TYPE_TSS_BUSY = 11, TYPE_LDT = 2;
    static final long CR0_PE = 1L;
    static final long CR0_ET = 1L << 4;
    /** rflags: only the reserved bit 1 (IF, TF and VM clear). */
    static final long RFLAGS = 0x2;
    static final int TSS_LIMIT = 0x67;

    private PvhEntry() {
    }

    /**
     * Sets sregs (cr0 = PE | ET, cr4 = efer = 0, flat 4 GiB cs/ds/es/fs/gs/ss, a busy 32-bit TSS,
     * no LDT) and regs (rip = {@code entry}, rbx = {@code startInfoGpa}, the rest 0, rflags = 2).
     * Both addresses must be below 4 GiB.
     */
    public static void enter(KvmVcpu vcpu, long entry, long startInfoGpa) {
        if (entry < 0 || entry >= PvhImage.FOUR_GIB || startInfoGpa < 0 || startInfoGpa >= PvhImage.FOUR_GIB) {
            throw new IllegalArgumentException("PVH entry 0x" + Long.toHexString(entry) + " and start info 0x"
                    + Long.toHexString(startInfoGpa) + " must be below 4 GiB");
        }
        KvmSregs s = vcpu.getSregs();
        KvmSegment code = KvmSegment.flat32(CODE_SELECTOR, TYPE_CODE);
        KvmSegment data = KvmSegment.flat32(DATA_SELECTOR, TYPE_DATA);
        KvmSegment tr = new KvmSegment(0, TSS_LIMIT, TSS_SELECTOR, TYPE_TSS_BUSY, 1, 0, 0, 0, 0, 0, 0, 0);
        KvmSegment ldt = new KvmSegment(0, 0, 0, TYPE_LDT, 0, 0, 0, 0, 0, 0, 0, 1);
        vcpu.setSregs(new KvmSregs(code, data, data, data, data, data, tr, ldt, s.gdt(), s.idt(), CR0_PE | CR0_ET,
                s.cr2(), s.cr3(), 0, s.cr8(), 0, s.apicBase(), s.interruptBitmap()));
        vcpu.setRegs(new KvmRegs(0, startInfoGpa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, entry, RFLAGS));
    }
}
