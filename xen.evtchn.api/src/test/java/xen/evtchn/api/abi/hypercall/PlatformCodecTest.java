package xen.evtchn.api.abi.hypercall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.XenVer;

/**
 * The codecs of xen_version, memory_op and hvm_op structs against the reference layouts
 * (public/version.h, memory.h, hvm/params.h, hvm/hvm_op.h): each struct is written into a slice
 * at an odd (unaligned) offset that is exactly the struct's size, so a field past the end fails;
 * the bytes at the reference offsets must be the little-endian encoding; bytes around the slice
 * must not move; writeOut changes the out field only; width-dependent layouts are checked for
 * both widths.
 */
class PlatformCodecTest {
    private static final int OFF = 5;
    private static final int BUF = 1100;

    private MemorySegment buf;

    @BeforeEach
    void fill() {
        buf = Arena.ofAuto().allocate(BUF, 8);
        for (int i = 0; i < BUF; i++) {
            buf.set(ValueLayout.JAVA_BYTE, i, (byte) (0x31 + i * 7));
        }
    }

    private MemorySegment struct(int size) {
        return buf.asSlice(OFF, size);
    }

    private byte[] snapshot() {
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    private void assertLe(int at, long value, int width, String field) {
        for (int i = 0; i < width; i++) {
            int expected = (int) (value >>> (8 * i)) & 0xFF;
            int actual = buf.get(ValueLayout.JAVA_BYTE, OFF + at + i) & 0xFF;
            assertEquals(expected, actual, field + ": byte " + i + " at struct offset " + (at + i));
        }
    }

    /** Every byte equals {@code before} except those in the struct ranges given as (offset, length) pairs. */
    private void assertUnchangedExcept(byte[] before, int... ranges) {
        byte[] now = snapshot();
        for (int i = 0; i < BUF; i++) {
            boolean inRange = false;
            for (int r = 0; r < ranges.length; r += 2) {
                if (i >= OFF + ranges[r] && i < OFF + ranges[r] + ranges[r + 1]) {
                    inRange = true;
                }
            }
            if (!inRange) {
                assertEquals(before[i], now[i], "byte " + i + " (struct offset " + (i - OFF) + ") changed");
            }
        }
    }

    // ---- xen_feature_info: 0 submap_idx u32, 4 submap u32 (out) --------------------------------

    @Test
    void featureInfo() {
        assertEquals(0, FeatureInfo.SUBMAP_IDX);
        assertEquals(4, FeatureInfo.SUBMAP);
        assertEquals(8, FeatureInfo.SIZE);
        MemorySegment s = struct(FeatureInfo.SIZE);
        byte[] before = snapshot();
        FeatureInfo v = new FeatureInfo(0x8000_0001, 0xC0DE_F00D);
        v.write(s);
        assertUnchangedExcept(before, 0, 8);
        assertLe(0, 0x8000_0001L, 4, "submap_idx");
        assertLe(4, 0xC0DE_F00DL, 4, "submap");
        assertEquals(v, FeatureInfo.read(s));

        byte[] beforeOut = snapshot();
        FeatureInfo.writeOut(s, 0x0000_0305);
        assertLe(4, 0x305, 4, "submap out");
        assertUnchangedExcept(beforeOut, 4, 4);
        assertThrows(IndexOutOfBoundsException.class, () -> FeatureInfo.read(struct(7)));
    }

    // ---- xen_platform_parameters: virt_start xen_ulong_t -----------------------------------

    @Test
    void platformParametersIsEightBytesForA64BitCaller() {
        assertEquals(8, PlatformParameters.size(GuestWidth.X86_64));
        MemorySegment s = struct(8);
        byte[] before = snapshot();
        new PlatformParameters(0xFFFF_8000_0000_0000L).write(s, GuestWidth.X86_64);
        assertLe(0, 0xFFFF_8000_0000_0000L, 8, "virt_start");
        assertUnchangedExcept(before, 0, 8);
        assertEquals(0xFFFF_8000_0000_0000L, PlatformParameters.read(s, GuestWidth.X86_64).virtStart());
    }

    @Test
    void platformParametersIsFourBytesForA32BitCaller() {
        assertEquals(4, PlatformParameters.size(GuestWidth.X86_32));
        MemorySegment s = struct(4);
        byte[] before = snapshot();
        new PlatformParameters(0xF580_0000L).write(s, GuestWidth.X86_32);
        assertLe(0, 0xF580_0000L, 4, "virt_start");
        assertUnchangedExcept(before, 0, 4);
        assertEquals(0xF580_0000L, PlatformParameters.read(s, GuestWidth.X86_32).virtStart(), "zero-extended");
        assertThrows(IndexOutOfBoundsException.class, () -> new PlatformParameters(0).write(struct(4), GuestWidth.X86_64),
                "a 64-bit write does not fit the 32-bit struct");
    }

    // ---- xen_add_to_physmap ----------------------------------------------------------------

    @Test
    void addToPhysmapFor64BitCallers() {
        assertEquals(0, AddToPhysmap.DOMID);
        assertEquals(2, AddToPhysmap.SIZE_FIELD);
        assertEquals(4, AddToPhysmap.SPACE);
        assertEquals(8, AddToPhysmap.IDX);
        assertEquals(16, AddToPhysmap.GPFN_64);
        assertEquals(24, AddToPhysmap.size(GuestWidth.X86_64));
        MemorySegment s = struct(24);
        byte[] before = snapshot();
        AddToPhysmap v = new AddToPhysmap(0x7FF0, 0xFEDC, 0x8000_0002, 0x1122_3344_5566_7788L, 0x8877_6655_4433_2211L);
        v.write(s, GuestWidth.X86_64);
        assertUnchangedExcept(before, 0, 24);
        assertLe(0, 0x7FF0, 2, "domid");
        assertLe(2, 0xFEDC, 2, "size");
        assertLe(4, 0x8000_0002L, 4, "space");
        assertLe(8, 0x1122_3344_5566_7788L, 8, "idx");
        assertLe(16, 0x8877_6655_4433_2211L, 8, "gpfn");
        assertEquals(v, AddToPhysmap.read(s, GuestWidth.X86_64));
        assertEquals(0xFEDC, AddToPhysmap.read(s, GuestWidth.X86_64).size(), "u16 is unsigned");
        assertThrows(IndexOutOfBoundsException.class, () -> AddToPhysmap.read(struct(23), GuestWidth.X86_64));
    }

    @Test
    void addToPhysmapFor32BitCallersHasFourByteIdxAndGpfn() {
        assertEquals(12, AddToPhysmap.GPFN_32);
        assertEquals(16, AddToPhysmap.size(GuestWidth.X86_32));
        MemorySegment s = struct(16);
        byte[] before = snapshot();
        AddToPhysmap v = new AddToPhysmap(0x0001, 0x0002, 0, 0xFFFF_FFFFL, 0x8000_0010L);
        v.write(s, GuestWidth.X86_32);
        assertUnchangedExcept(before, 0, 16);
        assertLe(0, 1, 2, "domid");
        assertLe(2, 2, 2, "size");
        assertLe(4, 0, 4, "space");
        assertLe(8, 0xFFFF_FFFFL, 4, "idx");
        assertLe(12, 0x8000_0010L, 4, "gpfn");
        assertEquals(v, AddToPhysmap.read(s, GuestWidth.X86_32), "idx and gpfn read back zero-extended");
        assertThrows(IndexOutOfBoundsException.class, () -> AddToPhysmap.read(struct(15), GuestWidth.X86_32));
    }

    // ---- xen_hvm_param: 0 domid u16, 4 index u32, 8 value u64 (out for get) ------------------

    @Test
    void hvmParam() {
        assertEquals(0, HvmParamArg.DOMID);
        assertEquals(4, HvmParamArg.INDEX);
        assertEquals(8, HvmParamArg.VALUE);
        assertEquals(16, HvmParamArg.SIZE);
        MemorySegment s = struct(16);
        byte[] before = snapshot();
        HvmParamArg v = new HvmParamArg(0xFFFF, 0x8000_0000, 0x0200_0000_0000_00F3L);
        v.write(s);
        assertUnchangedExcept(before, 0, 2, 4, 12); // bytes 2-3 are padding
        assertLe(0, 0xFFFF, 2, "domid");
        assertLe(4, 0x8000_0000L, 4, "index");
        assertLe(8, 0x0200_0000_0000_00F3L, 8, "value");
        assertEquals(v, HvmParamArg.read(s));
        assertEquals(65535, HvmParamArg.read(s).domid());

        byte[] beforeOut = snapshot();
        HvmParamArg.writeOut(s, -2L);
        assertLe(8, -2L, 8, "value out");
        assertUnchangedExcept(beforeOut, 8, 8);
        assertThrows(IndexOutOfBoundsException.class, () -> HvmParamArg.read(struct(15)));
    }

    // ---- xen_hvm_evtchn_upcall_vector: 0 vcpu u32, 4 vector u8, pad to 8 ------------------------

    @Test
    void evtchnUpcallVector() {
        assertEquals(0, EvtchnUpcallVector.VCPU);
        assertEquals(4, EvtchnUpcallVector.VECTOR);
        assertEquals(8, EvtchnUpcallVector.SIZE);
        MemorySegment s = struct(8);
        byte[] before = snapshot();
        EvtchnUpcallVector v = new EvtchnUpcallVector(0x8765_4321, 0xF3);
        v.write(s);
        assertUnchangedExcept(before, 0, 5);
        assertLe(0, 0x8765_4321L, 4, "vcpu");
        assertLe(4, 0xF3, 1, "vector");
        assertEquals(v, EvtchnUpcallVector.read(s));
        assertEquals(0xF3, EvtchnUpcallVector.read(s).vector(), "u8 is unsigned");
    }

    // ---- fixed char arrays ------------------------------------------------------------------

    @Test
    void aStringIsNulPaddedToItsArray() {
        byte[] e = XenString.encode(".0-java", XenVer.EXTRAVERSION_LEN);
        assertEquals(16, e.length);
        byte[] expected = new byte[16];
        System.arraycopy(".0-java".getBytes(), 0, expected, 0, 7);
        assertArrayEquals(expected, e);
    }

    @Test
    void aLongStringIsCutToLeaveItsNul() {
        byte[] e = XenString.encode("0123456789abcdefXYZ", 16);
        assertEquals('e', e[14]);
        assertEquals(0, e[15], "safe_strcpy always leaves the terminator");
        MemorySegment s = struct(16);
        byte[] before = snapshot();
        XenString.write(s, e);
        assertUnchangedExcept(before, 0, 16);
        assertEquals("0123456789abcde", XenString.read(s, 16));
    }

    @Test
    void nonAsciiCharactersBecomeQuestionMarks() {
        assertEquals("caf? ok", new String(XenString.encode("café ok", 8), 0, 7));
    }

    @Test
    void writingAShortStringOverwritesStaleBytesWithNuls() {
        MemorySegment s = struct(XenVer.CHANGESET_LEN);
        XenString.write(s, XenString.encode("x".repeat(63), XenVer.CHANGESET_LEN));
        XenString.write(s, XenString.encode("abc", XenVer.CHANGESET_LEN));
        assertEquals("abc", XenString.read(s, XenVer.CHANGESET_LEN));
        for (int i = 3; i < XenVer.CHANGESET_LEN; i++) {
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
        }
    }

    // ---- xen_compile_info: compiler[64] @0, compile_by[16] @64, compile_domain[32] @80, compile_date[32] @112

    @Test
    void compileInfo() {
        assertEquals(144, CompileInfo.SIZE);
        assertEquals(CompileInfo.SIZE, CompileInfo.COMPILE_DATE + CompileInfo.COMPILE_DATE_LEN);
        MemorySegment s = struct(CompileInfo.SIZE);
        byte[] before = snapshot();
        CompileInfo v = new CompileInfo("gcc (GCC) 12.2.0", "builder", "example.org", "Mon Jan  1 00:00:00 UTC 2024");
        v.write(s);
        assertUnchangedExcept(before, 0, 144);
        assertEquals('g', s.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals('b', s.get(ValueLayout.JAVA_BYTE, 64));
        assertEquals('e', s.get(ValueLayout.JAVA_BYTE, 80));
        assertEquals('M', s.get(ValueLayout.JAVA_BYTE, 112));
        assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 64 - 1), "compiler is NUL-padded");
        assertEquals(v, CompileInfo.read(s));
        assertThrows(IndexOutOfBoundsException.class, () -> v.write(struct(CompileInfo.SIZE - 1)));
    }

    @Test
    void compileInfoFieldsAreCutToTheirArrays() {
        CompileInfo v = new CompileInfo("c", "a-builder-name-longer-than-16", "d", "t");
        MemorySegment s = struct(CompileInfo.SIZE);
        v.write(s);
        assertEquals("a-builder-name-", CompileInfo.read(s).compileBy());
        assertEquals("d", CompileInfo.read(s).compileDomain(), "the cut did not spill into the next field");
    }
}
