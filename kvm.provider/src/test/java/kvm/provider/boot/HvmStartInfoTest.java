package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import kvm.provider.boot.HvmStartInfo.MemmapEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link HvmStartInfo}: the version-1 layout, round trips, and what write refuses. */
class HvmStartInfoTest {
    static final long GPA = 0x6000;
    static final String CMDLINE = "console=hvc0 earlyprintk=xen";
    static final List<MemmapEntry> MAP = List.of(new MemmapEntry(0, 0x9fc00, MemmapEntry.RAM),
            new MemmapEntry(0xf0000, 0x10000, MemmapEntry.RESERVED),
            new MemmapEntry(0x100000, 0x3f00000, MemmapEntry.RAM));

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment ram = arena.allocate(64L << 10);

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void theInitrdModuleAndTheRsdpAreListed() {
        ram.fill((byte) 0xaa);
        List<HvmStartInfo.Module> modules = List.of(new HvmStartInfo.Module(0x3c00000, 0x1e4a18));
        long size = HvmStartInfo.write(ram, GPA, CMDLINE, MAP, 0xe0000, modules);
        assertEquals(56 + 3 * 24 + 32 + CMDLINE.length() + 1, size);
        assertEquals(size, HvmStartInfo.size(CMDLINE, MAP.size(), 1));
        assertEquals(1, i32(12), "nr_modules");
        assertEquals(GPA + 56 + 3 * 24, i64(16), "modlist_paddr: after the memory map");
        assertEquals(0x3c00000, i64(56 + 3 * 24), "modlist[0].paddr");
        assertEquals(0x1e4a18, i64(56 + 3 * 24 + 8), "modlist[0].size");
        assertEquals(0, i64(56 + 3 * 24 + 16), "modlist[0].cmdline_paddr");
        assertEquals(0, i64(56 + 3 * 24 + 24), "modlist[0].reserved");
        assertEquals(GPA + 56 + 3 * 24 + 32, i64(24), "cmdline_paddr: after the modules");
        assertEquals(0xe0000, i64(32), "rsdp_paddr");
        HvmStartInfo info = HvmStartInfo.read(ram, GPA);
        assertEquals(modules, info.modules(ram));
        assertEquals(CMDLINE, info.cmdline(ram));
        assertEquals(MAP, info.memmap(ram));
        HvmStartInfo.write(ram, GPA, null, MAP);
        assertEquals(List.of(), HvmStartInfo.read(ram, GPA).modules(ram), "no modules: modlist_paddr 0");
    }

    @Test
    void layoutOfVersion1() {
        ram.fill((byte) 0xaa);
        long size = HvmStartInfo.write(ram, GPA, CMDLINE, MAP);
        assertEquals(56 + 3 * 24 + CMDLINE.length() + 1, size);
        assertEquals(size, HvmStartInfo.size(CMDLINE, MAP.size()));
        assertEquals(0x336ec578, i32(0));
        assertEquals(1, i32(4));
        assertEquals(0, i32(8), "flags");
        assertEquals(0, i32(12), "nr_modules");
        assertEquals(0, i64(16), "modlist_paddr");
        assertEquals(GPA + 56 + 3 * 24, i64(24), "cmdline_paddr");
        assertEquals(0, i64(32), "rsdp_paddr");
        assertEquals(GPA + 56, i64(40), "memmap_paddr");
        assertEquals(3, i32(48), "memmap_entries");
        assertEquals(0, i32(52), "reserved");
        assertEquals(0xf0000, i64(56 + 24), "memmap[1].addr");
        assertEquals(0x10000, i64(56 + 24 + 8), "memmap[1].size");
        assertEquals(2, i32(56 + 24 + 16), "memmap[1].type");
        assertEquals(0, i32(56 + 24 + 20), "memmap[1].reserved");
        byte[] cmd = ram.asSlice(GPA + 56 + 72, CMDLINE.length() + 1).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals((CMDLINE + "\0").getBytes(StandardCharsets.US_ASCII), cmd);
        assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, GPA + size), "the byte after the region");
        assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, GPA - 1), "the byte before the region");
    }

    @Test
    void roundTrip() {
        HvmStartInfo.write(ram, GPA, CMDLINE, MAP);
        HvmStartInfo info = HvmStartInfo.read(ram, GPA);
        assertEquals(HvmStartInfo.MAGIC, info.magic());
        assertEquals(HvmStartInfo.VERSION, info.version());
        assertEquals(MAP, info.memmap(ram));
        assertEquals(CMDLINE, info.cmdline(ram));
    }

    @Test
    void noCmdlineAndNoMapGiveZeroAddresses() {
        assertEquals(56, HvmStartInfo.write(ram, GPA, null, List.of()));
        HvmStartInfo info = HvmStartInfo.read(ram, GPA);
        assertEquals(new HvmStartInfo(HvmStartInfo.MAGIC, 1, 0, 0, 0, 0, 0, 0, 0), info);
        assertNull(info.cmdline(ram));
        assertEquals(List.of(), info.memmap(ram));
        assertEquals(57, HvmStartInfo.write(ram, GPA, "", List.of()));
        assertEquals("", HvmStartInfo.read(ram, GPA).cmdline(ram));
    }

    @Test
    void longestCmdlineFitsAndOneMoreIsRefused() {
        String longest = "x".repeat(HvmStartInfo.MAX_CMDLINE);
        HvmStartInfo.write(ram, GPA, longest, MAP);
        assertEquals(longest, HvmStartInfo.read(ram, GPA).cmdline(ram));
        refused(() -> HvmStartInfo.write(ram, GPA, longest + "x", MAP), "command line of 4096 characters");
    }

    @Test
    void refusesNonAsciiAndNulInTheCmdline() {
        refused(() -> HvmStartInfo.write(ram, GPA, "root=/dev/xvda caf\u00e9", MAP), "character 18 is U+00E9");
        refused(() -> HvmStartInfo.write(ram, GPA, "a\0b", MAP), "character 1 is U+0000");
    }

    @Test
    void refusesARegionOutsideRamOrMisaligned() {
        long size = HvmStartInfo.size(CMDLINE, MAP.size());
        long last = (ram.byteSize() - size) & -8;
        HvmStartInfo.write(ram, last, CMDLINE, MAP);
        refused(() -> HvmStartInfo.write(ram, last + 8, CMDLINE, MAP), "fit in RAM of 0x10000");
        refused(() -> HvmStartInfo.write(ram, GPA + 4, CMDLINE, MAP), "must be 8-aligned");
        refused(() -> HvmStartInfo.write(ram, -8, CMDLINE, MAP), "must be 8-aligned");
        refused(() -> HvmStartInfo.write(ram, Long.MAX_VALUE & -8, CMDLINE, MAP), "fit in RAM");
        MemorySegment huge = MemorySegment.NULL.reinterpret(8L << 30); // never written: refused first
        refused(() -> HvmStartInfo.write(huge, 1L << 32, CMDLINE, MAP), "below 4 GiB");
    }

    @Test
    void refusesBadMapEntriesWithoutWriting() {
        ram.fill((byte) 0xaa);
        refused(() -> HvmStartInfo.write(ram, GPA, CMDLINE, List.of(new MemmapEntry(0, 1, 0))), "unknown type 0");
        refused(() -> HvmStartInfo.write(ram, GPA, CMDLINE, List.of(new MemmapEntry(0, 1, 8))), "unknown type 8");
        refused(() -> HvmStartInfo.write(ram, GPA, CMDLINE, List.of(new MemmapEntry(-4096, 8192, 1))), "overflows");
        assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, GPA));
        HvmStartInfo.write(ram, GPA, null, List.of(new MemmapEntry(-4096, 4096, MemmapEntry.PMEM)));
    }

    private int i32(long at) {
        return ram.get(ValueLayout.JAVA_INT, GPA + at);
    }

    private long i64(long at) {
        return ram.get(ValueLayout.JAVA_LONG, GPA + at);
    }

    private static void refused(org.junit.jupiter.api.function.Executable call, String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(text), () -> "expected \"" + text + "\" in: " + e.getMessage());
    }
}
