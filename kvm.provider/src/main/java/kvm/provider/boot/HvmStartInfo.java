package kvm.provider.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Xen's struct hvm_start_info, version 1 (56 bytes), which a PVH guest finds at ebx on entry:
 * magic u32 @0, version u32 @4, flags u32 @8, nr_modules u32 @12, modlist_paddr u64 @16,
 * cmdline_paddr u64 @24, rsdp_paddr u64 @32, memmap_paddr u64 @40, memmap_entries u32 @48,
 * reserved u32 @52. {@link #write} lays out the start info, its memory map, its module list and
 * the command line in one region; the record itself is what {@link #read} finds there.
 */
public record HvmStartInfo(int magic, int version, int flags, int nrModules, long modlistPaddr, long cmdlinePaddr,
        long rsdpPaddr, long memmapPaddr, int memmapEntries) {
    /** XEN_HVM_START_MAGIC_VALUE. */
    public static final int MAGIC = 0x336ec578;
    /** The version written: 1 adds the memory map to version 0. */
    public static final int VERSION = 1;
    /** The longest command line accepted, in bytes without the NUL (Linux's x86 COMMAND_LINE_SIZE is 2048). */
    public static final int MAX_CMDLINE = 4095;
    static final long SIZE = 56;
    static final long MEMMAP_ENTRY_SIZE = 24;
    static final long MODLIST_ENTRY_SIZE = 32;
    public static final long FOUR_GIB = 1L << 32;

    /** struct hvm_memmap_table_entry (24 bytes): addr u64 @0, size u64 @8, type u32 @16, reserved u32 @20. */
    public record MemmapEntry(long addr, long size, int type) {
        public static final int RAM = 1;
        public static final int RESERVED = 2;
        public static final int ACPI = 3;
        public static final int NVS = 4;
        public static final int UNUSABLE = 5;
        public static final int DISABLED = 6;
        public static final int PMEM = 7;
    }

    /**
     * struct hvm_modlist_entry (32 bytes): paddr u64 @0, size u64 @8, cmdline_paddr u64 @16,
     * reserved u64 @24. Linux takes the first module as its initrd.
     */
    public record Module(long paddr, long size) {
    }

    /** Bytes {@link #write} uses: the start info, {@code entries} memory map entries, the cmdline and its NUL. */
    public static long size(String cmdline, int entries) {
        return size(cmdline, entries, 0);
    }

    /** Bytes {@link #write} uses with {@code modules} modules. */
    public static long size(String cmdline, int entries, int modules) {
        if (entries < 0 || modules < 0) {
            throw new IllegalArgumentException("negative memory map or module count " + entries + ", " + modules);
        }
        return SIZE + MEMMAP_ENTRY_SIZE * entries + MODLIST_ENTRY_SIZE * modules
                + (cmdline == null ? 0 : cmdline.length() + 1L);
    }

    /**
     * Writes at {@code gpa} (8-aligned, the region below 4 GiB as ebx is 32 bits) the start info,
     * then the memory map, then the NUL-terminated ASCII {@code cmdline} (null: none,
     * cmdline_paddr 0), into {@code ram} mapped at guest-physical 0. An empty {@code map} gives
     * memmap_paddr 0. Returns the region's size, {@link #size}.
     */
    public static long write(MemorySegment ram, long gpa, String cmdline, List<MemmapEntry> map) {
        return write(ram, gpa, cmdline, map, 0, List.of());
    }

    /**
     * {@link #write(MemorySegment, long, String, List)} with the ACPI RSDP's address (0: none) and
     * {@code modules}, listed after the memory map (empty: modlist_paddr 0).
     */
    public static long write(MemorySegment ram, long gpa, String cmdline, List<MemmapEntry> map, long rsdp,
            List<Module> modules) {
        checkCmdline(cmdline);
        for (int i = 0; i < map.size(); i++) {
            MemmapEntry e = map.get(i);
            if (e.type() < MemmapEntry.RAM || e.type() > MemmapEntry.PMEM) {
                throw new IllegalArgumentException("memory map entry " + i + ": unknown type " + e.type());
            }
            if (e.size() != 0 && Long.compareUnsigned(e.addr() + e.size() - 1, e.addr()) < 0) {
                throw new IllegalArgumentException("memory map entry " + i + ": 0x" + Long.toHexString(e.addr())
                        + " + 0x" + Long.toHexString(e.size()) + " overflows");
            }
        }
        long size = size(cmdline, map.size(), modules.size());
        long limit = Math.min(ram.byteSize(), FOUR_GIB);
        if (gpa < 0 || gpa % 8 != 0 || gpa > limit - size) {
            throw new IllegalArgumentException("start info at 0x" + Long.toHexString(gpa)
                    + " must be 8-aligned and its 0x" + Long.toHexString(size) + " bytes fit in RAM of 0x"
                    + Long.toHexString(ram.byteSize()) + " bytes, below 4 GiB");
        }
        MemorySegment region = ram.asSlice(gpa, size);
        region.fill((byte) 0);
        long memmap = SIZE;
        long modlist = memmap + MEMMAP_ENTRY_SIZE * map.size();
        long cmd = modlist + MODLIST_ENTRY_SIZE * modules.size();
        region.set(ValueLayout.JAVA_INT, 0, MAGIC);
        region.set(ValueLayout.JAVA_INT, 4, VERSION);
        region.set(ValueLayout.JAVA_INT, 12, modules.size());
        region.set(ValueLayout.JAVA_LONG, 16, modules.isEmpty() ? 0 : gpa + modlist);
        region.set(ValueLayout.JAVA_LONG, 32, rsdp);
        for (int i = 0; i < modules.size(); i++) {
            region.set(ValueLayout.JAVA_LONG, modlist + MODLIST_ENTRY_SIZE * i, modules.get(i).paddr());
            region.set(ValueLayout.JAVA_LONG, modlist + MODLIST_ENTRY_SIZE * i + 8, modules.get(i).size());
        }
        region.set(ValueLayout.JAVA_LONG, 24, cmdline == null ? 0 : gpa + cmd);
        region.set(ValueLayout.JAVA_LONG, 40, map.isEmpty() ? 0 : gpa + memmap);
        region.set(ValueLayout.JAVA_INT, 48, map.size());
        for (int i = 0; i < map.size(); i++) {
            MemmapEntry e = map.get(i);
            long at = memmap + MEMMAP_ENTRY_SIZE * i;
            region.set(ValueLayout.JAVA_LONG, at, e.addr());
            region.set(ValueLayout.JAVA_LONG, at + 8, e.size());
            region.set(ValueLayout.JAVA_INT, at + 16, e.type());
        }
        for (int i = 0; cmdline != null && i < cmdline.length(); i++) {
            region.set(ValueLayout.JAVA_BYTE, cmd + i, (byte) cmdline.charAt(i));
        }
        return size;
    }

    private static void checkCmdline(String cmdline) {
        if (cmdline == null) {
            return;
        }
        if (cmdline.length() > MAX_CMDLINE) {
            throw new IllegalArgumentException("command line of " + cmdline.length() + " characters, at most "
                    + MAX_CMDLINE);
        }
        for (int i = 0; i < cmdline.length(); i++) {
            char c = cmdline.charAt(i);
            if (c == 0 || c > 0x7f) {
                throw new IllegalArgumentException("command line character " + i + " is U+"
                        + String.format("%04X", (int) c) + ": only ASCII without NUL");
            }
        }
    }

    /** The start info at {@code gpa} in {@code ram}, as found (only the bounds checked: IndexOutOfBoundsException). */
    public static HvmStartInfo read(MemorySegment ram, long gpa) {
        MemorySegment m = ram.asSlice(gpa, SIZE);
        return new HvmStartInfo(m.get(ValueLayout.JAVA_INT_UNALIGNED, 0), m.get(ValueLayout.JAVA_INT_UNALIGNED, 4),
                m.get(ValueLayout.JAVA_INT_UNALIGNED, 8), m.get(ValueLayout.JAVA_INT_UNALIGNED, 12),
                m.get(ValueLayout.JAVA_LONG_UNALIGNED, 16), m.get(ValueLayout.JAVA_LONG_UNALIGNED, 24),
                m.get(ValueLayout.JAVA_LONG_UNALIGNED, 32), m.get(ValueLayout.JAVA_LONG_UNALIGNED, 40),
                m.get(ValueLayout.JAVA_INT_UNALIGNED, 48));
    }

    /** The memory map this start info points to in {@code ram} (empty if memmap_paddr is 0). */
    public List<MemmapEntry> memmap(MemorySegment ram) {
        return entries(ram, memmapPaddr, memmapEntries, MEMMAP_ENTRY_SIZE,
                e -> new MemmapEntry(e.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), e.get(ValueLayout.JAVA_LONG_UNALIGNED, 8),
                        e.get(ValueLayout.JAVA_INT_UNALIGNED, 16)));
    }

    /** The module list this start info points to in {@code ram} (empty if modlist_paddr is 0). */
    public List<Module> modules(MemorySegment ram) {
        return entries(ram, modlistPaddr, nrModules, MODLIST_ENTRY_SIZE,
                e -> new Module(e.get(ValueLayout.JAVA_LONG_UNALIGNED, 0), e.get(ValueLayout.JAVA_LONG_UNALIGNED, 8)));
    }

    /** {@code count} (unsigned) entries of {@code size} bytes at {@code paddr} in {@code ram}, none if paddr is 0. */
    private static <T> List<T> entries(MemorySegment ram, long paddr, int count, long size, Function<MemorySegment, T> read) {
        if (paddr == 0) {
            return List.of();
        }
        long n = Integer.toUnsignedLong(count);
        MemorySegment m = ram.asSlice(paddr, size * n); // bounds-checked before allocating
        List<T> entries = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            entries.add(read.apply(m.asSlice(size * i, size)));
        }
        return entries;
    }

    /** The command line this start info points to in {@code ram} (null if cmdline_paddr is 0), at most MAX_CMDLINE. */
    public String cmdline(MemorySegment ram) {
        if (cmdlinePaddr == 0) {
            return null;
        }
        StringBuilder s = new StringBuilder();
        for (long at = cmdlinePaddr; s.length() <= MAX_CMDLINE; at++) {
            byte c = ram.get(ValueLayout.JAVA_BYTE, at);
            if (c == 0) {
                return s.toString();
            }
            s.append((char) (c & 0xff));
        }
        throw new IllegalArgumentException("no NUL within " + (MAX_CMDLINE + 1) + " bytes of the command line at 0x"
                + Long.toHexString(cmdlinePaddr));
    }
}
