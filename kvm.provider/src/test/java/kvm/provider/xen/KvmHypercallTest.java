package kvm.provider.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import kvm.provider.boot.LongMode;
import kvm.provider.kvm.KvmDtable;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSegment;
import kvm.provider.kvm.KvmSregs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link KvmHypercall} on page tables built in a plain native segment: no KVM needed. */
class KvmHypercallTest {
    private static final long RAM_SIZE = 4L << 20;
    private static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;
    private static final long P = 1, RW = 2, PS = 0x80;
    private static final long GIB = 1L << 30, MIB2 = 2L << 20;
    private static final long CR0_LONG = LongMode.CR0_PE | LongMode.CR0_ET | LongMode.CR0_NE | LongMode.CR0_PG;

    private Arena arena;
    private MemorySegment ram;

    @BeforeEach
    void setUp() {
        arena = Arena.ofConfined();
        ram = arena.allocate(RAM_SIZE, 4096);
        ram.fill((byte) 0);
        // VA 0 .. 2 MiB -> PA 2 MiB .. 4 MiB (one 2 MiB page, not identity)
        // VA 2 MiB + n * 4 KiB -> the PT below
        // VA 1 GiB .. 2 GiB -> PA 0 (one 1 GiB page; only its first 4 MiB are RAM)
        set(PML4, PDPT | P | RW);
        set(PDPT, PD | P | RW);
        set(PDPT + 8, 0 | P | RW | PS);
        set(PD, MIB2 | P | RW | PS);
        set(PD + 8, PT | P | RW);
        set(PT, 0x5000 | P | RW);
        set(PT + 8, 0x6000 | P | RW); // contiguous with PT[0]
        set(PT + 16, 0x9000 | P | RW); // not contiguous with PT[1]
        // PT[3] not present
        set(PT + 32, (RAM_SIZE - 0x1000) | P | RW); // the last page of RAM
        set(PT + 40, RAM_SIZE | P | RW); // contiguous, but past the end of RAM
    }

    @AfterEach
    void tearDown() {
        arena.close();
    }

    private void set(long at, long value) {
        ram.set(ValueLayout.JAVA_LONG, at, value);
    }

    private static KvmSegment code64(int selector) {
        return new KvmSegment(0, 0xffffffff, selector, 11, 1, selector & 3, 0, 1, 1, 1, 0, 0);
    }

    private static KvmSregs sregs(KvmSegment cs, long cr0, long cr3, long cr4, long efer) {
        KvmSegment data = KvmSegment.flat32(0x10, 3);
        return new KvmSregs(cs, data, data, data, data, data, data, data, new KvmDtable(0, 0), new KvmDtable(0, 0),
                cr0, 0, cr3, cr4, 0, efer, 0, new long[4]);
    }

    private KvmHypercall paged() {
        return KvmHypercall.of(() -> ram, 1, 0, KvmRegs.initial(),
                sregs(code64(8), CR0_LONG, PML4, LongMode.CR4_PAE, LongMode.EFER_LME | LongMode.EFER_LMA));
    }

    private KvmHypercall unpaged() {
        return KvmHypercall.of(() -> ram, 1, 0, KvmRegs.initial(),
                sregs(KvmSegment.flat32(8, 11), LongMode.CR0_PE, 0, 0, 0));
    }

    /** The guest-physical address a slice of RAM starts at. */
    private long gpa(MemorySegment slice) {
        assertNotNull(slice, "mapped");
        return slice.address() - ram.address();
    }

    @Test
    void pagingOffIsIdentity() {
        KvmHypercall call = unpaged();
        MemorySegment s = call.guest(0x1234, 8);
        assertEquals(0x1234, gpa(s));
        assertEquals(8, s.byteSize());
        assertEquals(RAM_SIZE - 8, gpa(call.guest(RAM_SIZE - 8, 8)), "the last bytes of RAM");
        assertEquals(0, call.guest(0x10, 0).byteSize(), "an empty range");
    }

    @Test
    void pagingOffPastTheEndOfRamIsNull() {
        KvmHypercall call = unpaged();
        assertNull(call.guest(RAM_SIZE - 4, 8));
        assertNull(call.guest(RAM_SIZE, 1));
        assertNull(call.guest(0, RAM_SIZE + 1));
        assertNull(call.guest(0, -1));
    }

    @Test
    void twoMegabytePages() {
        KvmHypercall call = paged();
        assertEquals(MIB2 + 0x1000, gpa(call.guest(0x1000, 16)));
        // Within one 2 MiB page, 4 KiB boundaries are no boundary.
        assertEquals(MIB2 + 0x1ff8, gpa(call.guest(0x1ff8, 16)));
        assertEquals(MIB2 + 0x1ff8, call.translate(0x1ff8));
    }

    @Test
    void oneGigabytePages() {
        KvmHypercall call = paged();
        assertEquals(0x100, gpa(call.guest(GIB + 0x100, 4)));
        assertNull(call.guest(GIB + RAM_SIZE, 4), "mapped but not RAM");
    }

    @Test
    void fourKilobytePages() {
        KvmHypercall call = paged();
        assertEquals(0x5000, gpa(call.guest(MIB2, 8)));
        assertEquals(0x6abc, gpa(call.guest(MIB2 + 0x1abc, 4)));
        assertEquals(0x5ff8, gpa(call.guest(MIB2 + 0xff8, 16)), "across physically contiguous pages");
        MemorySegment s = call.guest(MIB2 + 0xff8, 16);
        s.set(ValueLayout.JAVA_LONG, 8, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, ram.get(ValueLayout.JAVA_LONG, 0x6000), "a view of RAM");
    }

    @Test
    void scatteredPagesAreACopyWhoseChangedBytesGoBackAtTheEnd() {
        KvmHypercall call = paged();
        assertEquals(0x9000, gpa(call.guest(MIB2 + 0x2000, 8)));
        ram.set(ValueLayout.JAVA_LONG, 0x6ff8, 0x0807060504030201L);
        ram.set(ValueLayout.JAVA_LONG, 0x9000, 0x100f0e0d0c0b0a09L);
        ram.set(ValueLayout.JAVA_LONG, 0x9008, 0x7777777777777777L);
        MemorySegment s = call.guest(MIB2 + 0x1ff8, 16); // 0x6ff8 .. 0x6fff, then 0x9000 .. 0x9007
        assertNotNull(s, "mapped throughout, though not contiguous");
        assertEquals(0x0807060504030201L, s.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0x100f0e0d0c0b0a09L, s.get(ValueLayout.JAVA_LONG, 8));
        s.set(ValueLayout.JAVA_INT, 4, 0xaabbccdd); // 0x6ffc .. 0x6fff
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 7, (short) 0x1234); // 0x6fff and 0x9000: across the pages
        s.set(ValueLayout.JAVA_BYTE, 15, (byte) 0x55); // 0x9007
        ram.set(ValueLayout.JAVA_BYTE, 0x6ff8, (byte) 0x42); // the guest's own write meanwhile
        assertEquals(0x0807060504030201L, ram.get(ValueLayout.JAVA_LONG, 0x6ff8) & ~0xffL | 0x01, "a copy until finish");

        call.finish();
        assertEquals(0x34bbccdd04030242L, ram.get(ValueLayout.JAVA_LONG, 0x6ff8), "changed bytes only, the guest's kept");
        assertEquals(0x550f0e0d0c0b0a12L, ram.get(ValueLayout.JAVA_LONG, 0x9000));
        assertEquals(0x7777777777777777L, ram.get(ValueLayout.JAVA_LONG, 0x9008), "nothing past the range");
    }

    @Test
    void scatteredRangesBeyondTheCopyLimitOrPartlyUnmappedAreNull() {
        KvmHypercall call = paged();
        assertNull(call.guest(MIB2 + 0x1ff8, KvmHypercall.MAX_COPY + 1), "larger than a copy may be");
        assertNull(call.guest(MIB2 + 0x2ff8, 16), "PT[3] is not present");
    }

    @Test
    void aNonPresentEntryIsNull() {
        KvmHypercall call = paged();
        assertNull(call.guest(MIB2 + 0x3000, 8), "PT entry not present");
        assertNull(call.guest(MIB2 + 0x2ff8, 16), "range running into a non-present page");
        assertNull(call.guest(2 * GIB, 8), "PDPT entry not present");
        assertNull(call.guest(1L << 39, 8), "PML4 entry not present");
        assertNull(call.guest(MIB2 * 3, 8), "PD entry not present");
        assertNull(call.guest(0x0000_8000_0000_0000L, 8), "not canonical");
    }

    @Test
    void aRangePastTheEndOfRamIsNull() {
        KvmHypercall call = paged();
        assertEquals(RAM_SIZE - 8, gpa(call.guest(MIB2 + 0x4ff8, 8)), "the last bytes of RAM");
        assertNull(call.guest(MIB2 + 0x4ff8, 16), "contiguous but past RAM");
        assertNull(call.guest(MIB2 + 0x5000, 1), "a page past RAM");
    }

    @Test
    void pageTablesOutsideRamAreNotMapped() {
        KvmHypercall call = KvmHypercall.of(() -> ram, 1, 0, KvmRegs.initial(), sregs(code64(8), CR0_LONG, RAM_SIZE,
                LongMode.CR4_PAE, LongMode.EFER_LME | LongMode.EFER_LMA));
        assertNull(call.guest(0, 8));
    }

    @Test
    void longModeArguments() {
        KvmRegs regs = new KvmRegs(32, 0xb, 0xc, 3, 2, 1, 0, 0, 5, 0, 4, 0, 0, 0, 0, 0, 0x2407, 2);
        KvmHypercall call = KvmHypercall.of(() -> ram, 7, 3, regs,
                sregs(code64(8), CR0_LONG, PML4, LongMode.CR4_PAE, LongMode.EFER_LME | LongMode.EFER_LMA));
        assertEquals(32, call.number());
        assertEquals(7, call.domid());
        assertEquals(3, call.vcpu());
        assertTrue(call.longMode());
        assertEquals(0, call.cpl());
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, call.arg(i), "arg " + i);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> call.arg(5));
    }

    @Test
    void thirtyTwoBitArgumentsAreZeroExtended() {
        long high = 0xdead_beef_0000_0000L;
        KvmRegs regs = new KvmRegs(high | 32, high | 1, high | 2, high | 3, high | 4, high | 5, 0, 0, 9, 0, 9, 0, 0,
                0, 0, 0, 0, 2);
        KvmHypercall call = KvmHypercall.of(() -> ram, 1, 0, regs, sregs(KvmSegment.flat32(0x1b, 11), LongMode.CR0_PE, 0,
                0, 0));
        assertFalse(call.longMode());
        assertEquals(32, call.number());
        assertEquals(3, call.cpl(), "cs selector RPL");
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, call.arg(i), "arg " + i);
        }
    }

    @Test
    void compatibilityModeIs32Bit() {
        KvmHypercall call = KvmHypercall.of(() -> ram, 1, 0, KvmRegs.initial(), sregs(KvmSegment.flat32(8, 11), CR0_LONG,
                PML4, LongMode.CR4_PAE, LongMode.EFER_LME | LongMode.EFER_LMA));
        assertFalse(call.longMode());
        assertEquals(MIB2 + 0x10, gpa(call.guest(0x10, 4)), "still translated by the long-mode tables");
    }

    @Test
    void builtFromKvmRunImagesLikeFromRecords() {
        KvmRegs regs = new KvmRegs(32, 0xb, 0xc, 3, 2, 1, 0, 0, 5, 0, 4, 0, 0, 0, 0, 0, 0x2407, 2);
        KvmSregs sregs = sregs(code64(8), CR0_LONG, PML4, LongMode.CR4_PAE, LongMode.EFER_LME | LongMode.EFER_LMA);
        MemorySegment r = arena.allocate(KvmRegs.LAYOUT);
        MemorySegment s = arena.allocate(KvmSregs.LAYOUT);
        regs.write(r);
        sregs.write(s);
        KvmHypercall call = KvmHypercall.of(() -> ram, 1, 0, r, s);
        assertTrue(call.longMode());
        assertEquals(32, call.number());
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, call.arg(i), "arg " + i);
        }
        assertEquals(MIB2 + 0x1000, gpa(call.guest(0x1000, 16)));
    }
}
