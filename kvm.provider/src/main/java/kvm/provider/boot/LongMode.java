package kvm.provider.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kvm.provider.kvm.KvmDtable;
import kvm.provider.kvm.KvmSegment;
import kvm.provider.kvm.KvmSregs;
import kvm.provider.kvm.KvmVcpu;

/**
 * Puts a vCPU straight into 64-bit long mode from the host, with no guest boot code: a flat GDT
 * and identity-mapping page tables (2 MiB pages) written into guest RAM, then sregs set.
 *
 * <p>Layout at {@code tables} (page-aligned guest-physical, inside {@code ram}, which is mapped at
 * guest-physical 0): page 0 the GDT, page 1 the PML4, page 2 the PDPT, then one PD per GiB of RAM
 * ({@link #tablesSize(long)} bytes in all). GDT: null, 64-bit code at {@link #CODE_SELECTOR},
 * flat data at {@link #DATA_SELECTOR}.
 */
public final class LongMode {
    /** GDT selector of the 64-bit code segment (cs.l = 1, cs.db = 0). */
    public static final int CODE_SELECTOR = 0x8;
    /** GDT selector of the flat data segment used for ds, es, fs, gs, ss. */
    public static final int DATA_SELECTOR = 0x10;

    public static final long CR0_PE = 1L;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_NE = 1L << 5;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;

    public static final long PAGE = 4096;
    static final long LARGE_PAGE = 2L << 20;
    static final long GIB = 1L << 30;
    static final int ENTRIES = 512;
    /** Page-table entry bits: present, writable, and (in a PD) a 2 MiB page. */
    static final long PTE_P = 1, PTE_RW = 2, PTE_PS = 0x80;

    /** Segment types: execute/read accessed code, read/write accessed data. */
    static final int TYPE_CODE = 11, TYPE_DATA = 3;
    /** The same descriptors as GDT entries in memory. */
    static final long GDT_CODE64 = 0x00af9b000000ffffL;
    static final long GDT_DATA = 0x00cf93000000ffffL;
    static final int GDT_LIMIT = 3 * 8 - 1;

    private LongMode() {
    }

    /** Bytes of guest RAM the GDT and page tables need to identity-map {@code ramSize} bytes. */
    public static long tablesSize(long ramSize) {
        return (3 + pdCount(ramSize)) * PAGE;
    }

    /**
     * Writes the GDT and page tables identity-mapping all of {@code ram} (mapped at guest-physical 0)
     * at {@code tables}, and sets the vCPU's sregs to 64-bit mode (cr3 = the PML4). The caller
     * then sets rip, rsp and the rest with KVM_SET_REGS.
     */
    public static void enter(KvmVcpu vcpu, MemorySegment ram, long tables) {
        long ramSize = ram.byteSize();
        if (tables % PAGE != 0 || tables < 0 || tables + tablesSize(ramSize) > ramSize) {
            throw new IllegalArgumentException("tables at 0x" + Long.toHexString(tables)
                    + " must be page-aligned and fit (0x" + Long.toHexString(tablesSize(ramSize))
                    + " bytes) in RAM of 0x" + Long.toHexString(ramSize));
        }
        long gdt = tables;
        long pml4 = tables + PAGE;
        long pdpt = pml4 + PAGE;
        long pd = pdpt + PAGE;
        ram.asSlice(tables, tablesSize(ramSize)).fill((byte) 0);

        ram.set(ValueLayout.JAVA_LONG, gdt + CODE_SELECTOR, GDT_CODE64);
        ram.set(ValueLayout.JAVA_LONG, gdt + DATA_SELECTOR, GDT_DATA);
        ram.set(ValueLayout.JAVA_LONG, pml4, pdpt | PTE_P | PTE_RW);
        long pages = (ramSize + LARGE_PAGE - 1) / LARGE_PAGE;
        for (long i = 0; i < pdCount(ramSize); i++) {
            ram.set(ValueLayout.JAVA_LONG, pdpt + 8 * i, (pd + PAGE * i) | PTE_P | PTE_RW);
        }
        for (long i = 0; i < pages; i++) {
            ram.set(ValueLayout.JAVA_LONG, pd + 8 * i, (LARGE_PAGE * i) | PTE_P | PTE_RW | PTE_PS);
        }

        KvmSregs s = vcpu.getSregs();
        KvmSegment code = new KvmSegment(0, 0xffffffff, CODE_SELECTOR, TYPE_CODE, 1, 0, 0, 1, 1, 1, 0, 0);
        KvmSegment data = new KvmSegment(0, 0xffffffff, DATA_SELECTOR, TYPE_DATA, 1, 0, 1, 1, 0, 1, 0, 0);
        vcpu.setSregs(new KvmSregs(code, data, data, data, data, data, s.tr(), s.ldt(),
                new KvmDtable(gdt, GDT_LIMIT), s.idt(), CR0_PE | CR0_ET | CR0_NE | CR0_PG, s.cr2(), pml4, CR4_PAE,
                s.cr8(), EFER_LME | EFER_LMA, s.apicBase(), s.interruptBitmap()));
    }

    private static long pdCount(long ramSize) {
        long pds = Math.max(1, (ramSize + GIB - 1) / GIB);
        if (pds > ENTRIES) {
            throw new IllegalArgumentException("more than 512 GiB of RAM: 0x" + Long.toHexString(ramSize));
        }
        return pds;
    }

    /** Points the vCPU's IDT at {@code idt} with {@code gates} 16-byte gates (0: a zero limit, so any exception triple-faults). */
    public static void loadIdt(KvmVcpu vcpu, long idt, int gates) {
        KvmSregs s = vcpu.getSregs();
        vcpu.setSregs(new KvmSregs(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt(), s.gdt(),
                new KvmDtable(idt, gates == 0 ? 0 : gates * 16 - 1), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(),
                s.apicBase(), s.interruptBitmap()));
    }

    /** Writes the 64-bit interrupt gate (present, DPL 0, code segment {@link #CODE_SELECTOR}) of {@code vector} to {@code target}. */
    public static void interruptGate(MemorySegment ram, long idt, int vector, long target) {
        long at = idt + 16L * vector;
        ram.set(ValueLayout.JAVA_SHORT, at, (short) target);
        ram.set(ValueLayout.JAVA_SHORT, at + 2, (short) CODE_SELECTOR);
        ram.set(ValueLayout.JAVA_BYTE, at + 5, (byte) 0x8e);
        ram.set(ValueLayout.JAVA_SHORT, at + 6, (short) (target >>> 16));
        ram.set(ValueLayout.JAVA_INT, at + 8, (int) (target >>> 32));
    }
}
