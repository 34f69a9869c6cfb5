package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * struct kvm_sregs (312 bytes): the segments cs, ds, es, fs, gs, ss, tr, ldt (24 bytes each from
 * @0), gdt @192, idt @208, cr0 @224, cr2, cr3, cr4, cr8, efer @264, apic_base @272 and the
 * pending-interrupt bitmap (4 u64) @280 ({@link #LAYOUT}). Kept whole so that get, change, set loses
 * nothing.
 */
public record KvmSregs(KvmSegment cs, KvmSegment ds, KvmSegment es, KvmSegment fs, KvmSegment gs, KvmSegment ss,
        KvmSegment tr, KvmSegment ldt, KvmDtable gdt, KvmDtable idt, long cr0, long cr2, long cr3, long cr4,
        long cr8, long efer, long apicBase, long[] interruptBitmap) {
    private static final int BITMAP_WORDS = 4;
    /** The struct: the eight segments, the two tables, cr0, cr2, cr3, cr4, cr8, efer, apic_base, the bitmap. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(KvmSegment.LAYOUT.withName("cs"),
            KvmSegment.LAYOUT.withName("ds"), KvmSegment.LAYOUT.withName("es"), KvmSegment.LAYOUT.withName("fs"),
            KvmSegment.LAYOUT.withName("gs"), KvmSegment.LAYOUT.withName("ss"), KvmSegment.LAYOUT.withName("tr"),
            KvmSegment.LAYOUT.withName("ldt"), KvmDtable.LAYOUT.withName("gdt"), KvmDtable.LAYOUT.withName("idt"),
            u64("cr0"), u64("cr2"), u64("cr3"), u64("cr4"), u64("cr8"), u64("efer"), u64("apic_base"),
            MemoryLayout.sequenceLayout(BITMAP_WORDS, ValueLayout.JAVA_LONG).withName("interrupt_bitmap"));
    static final long SIZE = LAYOUT.byteSize();
    private static final long GDT = offset("gdt");
    private static final long IDT = offset("idt");
    /** Offsets of the fields read in place (in kvm_run's sync regs). */
    public static final long CS = offset("cs"), CR0 = offset("cr0"), CR3 = offset("cr3"), CR4 = offset("cr4"),
            EFER = offset("efer");
    private static final long BITMAP = offset("interrupt_bitmap");

    private static ValueLayout u64(String name) {
        return ValueLayout.JAVA_LONG.withName(name);
    }

    private static long offset(String name) {
        return LAYOUT.byteOffset(PathElement.groupElement(name));
    }

    public KvmSregs {
        if (interruptBitmap.length != BITMAP_WORDS) {
            throw new IllegalArgumentException("interrupt bitmap has " + BITMAP_WORDS + " words");
        }
        interruptBitmap = interruptBitmap.clone();
    }

    @Override
    public long[] interruptBitmap() {
        return interruptBitmap.clone();
    }

    /** The same with cs as given and ds, es, fs, gs, ss all set to {@code data}. */
    public KvmSregs withSegments(KvmSegment code, KvmSegment data) {
        return new KvmSregs(code, data, data, data, data, data, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer,
                apicBase, interruptBitmap);
    }

    public KvmSregs withCr0(long value) {
        return new KvmSregs(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, value, cr2, cr3, cr4, cr8, efer, apicBase,
                interruptBitmap);
    }

    /** The registers in the kvm_sregs image {@code m}. */
    public static KvmSregs read(MemorySegment m) {
        KvmSegment[] seg = new KvmSegment[8];
        for (int i = 0; i < seg.length; i++) {
            seg[i] = KvmSegment.read(m, KvmSegment.SIZE * i);
        }
        long[] cr = new long[7]; // cr0, cr2, cr3, cr4, cr8, efer, apic_base
        for (int i = 0; i < cr.length; i++) {
            cr[i] = m.get(ValueLayout.JAVA_LONG, CR0 + 8L * i);
        }
        long[] bitmap = new long[BITMAP_WORDS];
        for (int i = 0; i < bitmap.length; i++) {
            bitmap[i] = m.get(ValueLayout.JAVA_LONG, BITMAP + 8L * i);
        }
        return new KvmSregs(seg[0], seg[1], seg[2], seg[3], seg[4], seg[5], seg[6], seg[7], KvmDtable.read(m, GDT),
                KvmDtable.read(m, IDT), cr[0], cr[1], cr[2], cr[3], cr[4], cr[5], cr[6], bitmap);
    }

    /** Writes these registers as a kvm_sregs image into {@code m}. */
    public void write(MemorySegment m) {
        KvmSegment[] seg = {cs, ds, es, fs, gs, ss, tr, ldt};
        for (int i = 0; i < seg.length; i++) {
            seg[i].write(m, KvmSegment.SIZE * i);
        }
        gdt.write(m, GDT);
        idt.write(m, IDT);
        long[] cr = {cr0, cr2, cr3, cr4, cr8, efer, apicBase};
        for (int i = 0; i < cr.length; i++) {
            m.set(ValueLayout.JAVA_LONG, CR0 + 8L * i, cr[i]);
        }
        for (int i = 0; i < BITMAP_WORDS; i++) {
            m.set(ValueLayout.JAVA_LONG, BITMAP + 8L * i, interruptBitmap[i]);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvmSregs x && cs.equals(x.cs) && ds.equals(x.ds) && es.equals(x.es) && fs.equals(x.fs)
                && gs.equals(x.gs) && ss.equals(x.ss) && tr.equals(x.tr) && ldt.equals(x.ldt) && gdt.equals(x.gdt)
                && idt.equals(x.idt) && cr0 == x.cr0 && cr2 == x.cr2 && cr3 == x.cr3 && cr4 == x.cr4 && cr8 == x.cr8
                && efer == x.efer && apicBase == x.apicBase && Arrays.equals(interruptBitmap, x.interruptBitmap);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Objects.hash(cs, ds, es, fs, gs, ss, tr, ldt, gdt, idt, cr0, cr2, cr3, cr4, cr8, efer,
                apicBase) + Arrays.hashCode(interruptBitmap);
    }

    @Override
    public String toString() {
        return "KvmSregs[cs=" + cs + ", ds=" + ds + ", es=" + es + ", fs=" + fs + ", gs=" + gs + ", ss=" + ss
                + ", tr=" + tr + ", ldt=" + ldt + ", gdt=" + gdt + ", idt=" + idt + ", cr0=0x" + Long.toHexString(cr0)
                + ", cr2=0x" + Long.toHexString(cr2) + ", cr3=0x" + Long.toHexString(cr3) + ", cr4=0x"
                + Long.toHexString(cr4) + ", cr8=" + cr8 + ", efer=0x" + Long.toHexString(efer) + ", apicBase=0x"
                + Long.toHexString(apicBase) + ", interruptBitmap=" + Arrays.toString(interruptBitmap) + "]";
    }
}
