package kvm.provider.boot;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * An unmodified PVH guest image: a little-endian x86 ELF executable whose PT_LOAD segments are
 * loaded at their physical addresses (p_paddr) and whose 32-bit entry point is the Xen ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY, which must lie in a segment's file bytes (PT_LOADs with memsz 0 are
 * ignored). The file is untrusted: every malformation is an {@link IllegalArgumentException}
 * saying what is wrong and where, nothing is allocated from header values, and all arithmetic is
 * checked.
 */
public final class PvhImage {
    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int ET_EXEC = 2;
    static final int EM_386 = 3;
    static final int EM_X86_64 = 62;
    /** XEN_ELFNOTE_PHYS32_ENTRY: the physical address of the 32-bit PVH entry point. */
    public static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    /** XEN_ELFNOTE_HYPERCALL_PAGE: the guest calls Xen through a hypercall page (every Linux before XSA-466). */
    public static final int XEN_ELFNOTE_HYPERCALL_PAGE = 2;
    /** XEN_ELFNOTE_GUEST_OS: the guest's name, e.g. "linux". */
    public static final int XEN_ELFNOTE_GUEST_OS = 6;
    /** The longest guest OS name kept. */
    static final int MAX_GUEST_OS = 64;
    static final long FOUR_GIB = 1L << 32;
    private static final byte[] XEN = {'X', 'e', 'n'};

    /** p_flags: the segment holds code. */
    public static final int PF_X = 1;

    /**
     * PT_LOAD: {@code fileSize} bytes from {@code fileOffset} at {@code paddr} (linked to run at
     * {@code vaddr}), then zero to {@code memSize}; {@code flags} are its p_flags ({@link #PF_X}).
     */
    public record Segment(long paddr, long vaddr, int flags, long fileOffset, long fileSize, long memSize) {
        /** paddr + memSize (cannot overflow: checked by {@link PvhImage#parse}). */
        public long end() {
            return paddr + memSize;
        }

        public boolean executable() {
            return (flags & PF_X) != 0;
        }
    }

    private final byte[] elf;
    private final long entry;
    private final List<Segment> segments;
    private final boolean hypercallPageNote;
    private final String guestOs;

    private PvhImage(byte[] elf, long entry, List<Segment> segments, boolean hypercallPageNote, String guestOs) {
        this.elf = elf;
        this.entry = entry;
        this.segments = List.copyOf(segments);
        this.hypercallPageNote = hypercallPageNote;
        this.guestOs = guestOs;
    }

    /** Parses (and copies) {@code elf}; see the class comment for what is refused. */
    public static PvhImage parse(byte[] elf) {
        ElfReader r = new ElfReader(elf);
        r.header();
        List<Segment> loads = new ArrayList<>();
        long entry = -1;
        boolean hypercallPage = false;
        String guestOs = "";
        for (int i = 0; i < r.phnum; i++) {
            long ph = r.phoff + (long) i * r.phentsize;
            int type = r.u32(ph);
            if (type != PT_LOAD && type != PT_NOTE) {
                continue;
            }
            Segment s = r.segment(i, ph);
            if (type == PT_LOAD) {
                if (s.memSize() > 0) {
                    loads.add(s);
                }
            } else {
                NoteReader notes = new NoteReader(r, i, s.fileOffset(), s.fileSize(), r.noteAlign(ph));
                long found = notes.read();
                hypercallPage |= notes.hypercallPage;
                guestOs = notes.guestOs != null ? notes.guestOs : guestOs;
                if (found >= 0 && entry >= 0 && found != entry) {
                    throw new IllegalArgumentException("two different XEN_ELFNOTE_PHYS32_ENTRY notes: 0x"
                            + Long.toHexString(entry) + " and 0x" + Long.toHexString(found) + " (program header " + i
                            + ")");
                }
                entry = found >= 0 ? found : entry;
            }
        }
        if (loads.isEmpty()) {
            throw new IllegalArgumentException("no PT_LOAD segment (with memsz > 0) among " + r.phnum
                    + " program headers");
        }
        if (entry < 0) {
            throw new IllegalArgumentException("not a PVH image: no XEN_ELFNOTE_PHYS32_ENTRY note");
        }
        final long e = entry;
        if (loads.stream().noneMatch(s -> e >= s.paddr() && e - s.paddr() < s.fileSize())) {
            throw new IllegalArgumentException("PVH entry 0x" + Long.toHexString(e)
                    + " is not inside the file bytes of any PT_LOAD segment");
        }
        return new PvhImage(elf.clone(), entry, loads, hypercallPage, guestOs);
    }

    /** Whether the image carries XEN_ELFNOTE_HYPERCALL_PAGE: it calls Xen through the hypercall page. */
    public boolean hypercallPageNote() {
        return hypercallPageNote;
    }

    /** XEN_ELFNOTE_GUEST_OS (e.g. "linux"; printable ASCII, at most 64 characters kept), or "" if none. */
    public String guestOs() {
        return guestOs;
    }

    /** The guest-physical 32-bit entry point (below 4 GiB). */
    public long entry() {
        return entry;
    }

    /** The PT_LOAD segments with memsz > 0, in program-header order. */
    public List<Segment> segments() {
        return segments;
    }

    /** The file bytes of {@code segment} (one of {@link #segments()}), as a read-only view. */
    public ByteBuffer fileBytes(Segment segment) {
        return ByteBuffer.wrap(elf, (int) segment.fileOffset(), (int) segment.fileSize()).slice().asReadOnlyBuffer();
    }

    /** The lowest paddr of any segment. */
    public long lowest() {
        return segments.stream().mapToLong(Segment::paddr).min().orElseThrow();
    }

    /** The highest paddr + memsz of any segment. */
    public long end() {
        return segments.stream().mapToLong(Segment::end).max().orElseThrow();
    }

    /**
     * Copies every segment into {@code ram} (guest RAM mapped at guest-physical 0) and zero-fills
     * its bss. Checks that all segments fit before writing anything.
     */
    public void load(MemorySegment ram) {
        long size = ram.byteSize();
        for (int i = 0; i < segments.size(); i++) {
            Segment s = segments.get(i);
            if (s.end() > size) {
                throw new IllegalArgumentException("segment " + i + " [0x" + Long.toHexString(s.paddr()) + ", 0x"
                        + Long.toHexString(s.end()) + ") does not fit in RAM of 0x" + Long.toHexString(size)
                        + " bytes");
            }
        }
        MemorySegment file = MemorySegment.ofArray(elf);
        for (Segment s : segments) {
            MemorySegment.copy(file, s.fileOffset(), ram, s.paddr(), s.fileSize());
            ram.asSlice(s.paddr() + s.fileSize(), s.memSize() - s.fileSize()).fill((byte) 0);
        }
    }

    /** Bounds-checked little-endian reads of the ELF header and program headers. */
    private static final class ElfReader {
        final byte[] b;
        boolean is64;
        long phoff;
        int phentsize;
        int phnum;

        ElfReader(byte[] b) {
            this.b = b;
        }

        void header() {
            if (b.length < 16) {
                throw new IllegalArgumentException("ELF too short: " + b.length + " bytes, e_ident needs 16");
            }
            if (b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') {
                throw new IllegalArgumentException("bad ELF magic at offset 0");
            }
            int cls = b[4] & 0xff;
            if (cls != 1 && cls != 2) {
                throw new IllegalArgumentException("unsupported EI_CLASS " + cls
                        + " at offset 4 (1 = ELFCLASS32, 2 = ELFCLASS64)");
            }
            is64 = cls == 2;
            if (b[5] != 1) {
                throw new IllegalArgumentException("not little-endian: EI_DATA " + (b[5] & 0xff)
                        + " at offset 5 (1 = ELFDATA2LSB)");
            }
            int ehsize = is64 ? 64 : 52;
            if (b.length < ehsize) {
                throw new IllegalArgumentException("ELF too short: " + b.length + " bytes, an ELF"
                        + (is64 ? "64" : "32") + " header needs " + ehsize);
            }
            int type = u16(16);
            if (type != ET_EXEC) {
                throw new IllegalArgumentException("not an executable: e_type " + type + " at offset 16 (2 = ET_EXEC)");
            }
            int machine = u16(18);
            if (machine != EM_386 && machine != EM_X86_64) {
                throw new IllegalArgumentException("unsupported e_machine " + machine
                        + " at offset 18 (3 = EM_386, 62 = EM_X86_64)");
            }
            phoff = is64 ? b64(32) : u32l(28);
            phentsize = u16(is64 ? 54 : 42);
            phnum = u16(is64 ? 56 : 44);
            int expected = is64 ? 56 : 32;
            if (phentsize != expected && phnum != 0) {
                throw new IllegalArgumentException("e_phentsize " + phentsize + " at offset " + (is64 ? 54 : 42)
                        + ", expected " + expected);
            }
            if (phnum == 0xffff) {
                throw new IllegalArgumentException("extended program header numbering (e_phnum 0xffff at offset "
                        + (is64 ? 56 : 44) + ") not supported");
            }
            if (phnum > 0 && (phoff < 0 || (long) phnum * phentsize > b.length - phoff)) {
                throw new IllegalArgumentException("program header table [0x" + Long.toHexString(phoff) + ", +"
                        + phnum + " x " + phentsize + ") outside the file of " + b.length + " bytes");
            }
        }

        /** Program header {@code i} at {@code ph} as a segment, with its file range and address checked. */
        Segment segment(int i, long ph) {
            long offset = is64 ? b64(ph + 8) : u32l(ph + 4);
            long vaddr = is64 ? b64(ph + 16) : u32l(ph + 8);
            long paddr = is64 ? b64(ph + 24) : u32l(ph + 12);
            int flags = is64 ? u32(ph + 4) : u32(ph + 24);
            long filesz = is64 ? b64(ph + 32) : u32l(ph + 16);
            long memsz = is64 ? b64(ph + 40) : u32l(ph + 20);
            String where = "program header " + i + " (offset 0x" + Long.toHexString(ph) + ")";
            if (offset < 0 || filesz < 0 || filesz > b.length - offset) {
                throw new IllegalArgumentException(where + ": file range offset 0x" + Long.toHexString(offset)
                        + " size 0x" + Long.toHexString(filesz) + " outside the file of " + b.length + " bytes");
            }
            if (u32(ph) != PT_LOAD) {
                return new Segment(paddr, vaddr, flags, offset, filesz, filesz);
            }
            if (Long.compareUnsigned(filesz, memsz) > 0) {
                throw new IllegalArgumentException(where + ": p_filesz 0x" + Long.toHexString(filesz)
                        + " > p_memsz 0x" + Long.toHexString(memsz));
            }
            long limit = is64 ? Long.MAX_VALUE : FOUR_GIB;
            if (paddr < 0 || memsz < 0 || memsz > limit - paddr) {
                throw new IllegalArgumentException(where + ": p_paddr 0x" + Long.toHexString(paddr) + " + p_memsz 0x"
                        + Long.toHexString(memsz) + " overflows the " + (is64 ? "63" : "32") + "-bit address space");
            }
            return new Segment(paddr, vaddr, flags, offset, filesz, memsz);
        }

        /** Note padding of the PT_NOTE at {@code ph}: 8 if its p_align is 8 (gABI), else 4. */
        int noteAlign(long ph) {
            return (is64 ? b64(ph + 48) : u32l(ph + 28)) == 8 ? 8 : 4;
        }

        int u16(long at) {
            return (b[(int) at] & 0xff) | (b[(int) at + 1] & 0xff) << 8;
        }

        int u32(long at) {
            return u16(at) | u16(at + 2) << 16;
        }

        long u32l(long at) {
            return Integer.toUnsignedLong(u32(at));
        }

        /** A u64, as a (possibly negative) long. */
        long b64(long at) {
            return u32l(at) | (long) u32(at + 4) << 32;
        }
    }

    /**
     * Walks the notes of one PT_NOTE segment: namesz, descsz, type u32s, then name and desc, each
     * padded; keeps the Xen notes this loader uses.
     */
    private static final class NoteReader {
        private final ElfReader r;
        private final int index;
        private final long offset;
        private final long size;
        private final int align;
        boolean hypercallPage;
        String guestOs;

        NoteReader(ElfReader r, int index, long offset, long size, int align) {
            this.r = r;
            this.index = index;
            this.offset = offset;
            this.size = size;
            this.align = align;
        }

        /** Reads the notes; returns the PHYS32_ENTRY value of this segment, or -1 if it has none. */
        long read() {
            long end = offset + size; // inside the file: checked
            long found = -1;
            long at = offset;
            while (end - at >= 12) {
                long namesz = r.u32l(at);
                long descsz = r.u32l(at + 4);
                int type = r.u32(at + 8);
                long name = at + 12;
                long desc = at + up(12 + namesz);
                if (name + namesz > end || desc > end || descsz > end - desc) {
                    throw new IllegalArgumentException("malformed note at file offset 0x" + Long.toHexString(at)
                            + " (program header " + index + "): namesz " + namesz + ", descsz " + descsz
                            + " run past the note segment's end 0x" + Long.toHexString(end));
                }
                if (isXen(name, namesz)) {
                    if (type == XEN_ELFNOTE_PHYS32_ENTRY) {
                        long value = value(desc, descsz);
                        if (found >= 0 && found != value) {
                            throw new IllegalArgumentException("two different XEN_ELFNOTE_PHYS32_ENTRY notes in program"
                                    + " header " + index + ": 0x" + Long.toHexString(found) + " and 0x"
                                    + Long.toHexString(value));
                        }
                        found = value;
                    } else if (type == XEN_ELFNOTE_HYPERCALL_PAGE) {
                        hypercallPage = true;
                    } else if (type == XEN_ELFNOTE_GUEST_OS) {
                        guestOs = string(desc, descsz);
                    }
                }
                at += up(desc - at + descsz); // the last note's padding may be missing: the loop then ends
            }
            return found;
        }

        /** A NUL-terminated string note: its printable ASCII, at most {@link #MAX_GUEST_OS} characters. */
        private String string(long desc, long descsz) {
            StringBuilder b = new StringBuilder();
            for (long i = 0; i < descsz && b.length() < MAX_GUEST_OS; i++) {
                int c = r.b[(int) (desc + i)] & 0xff;
                if (c == 0) {
                    break;
                }
                b.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
            }
            return b.toString();
        }

        /** {@code n} rounded up to the note alignment (offsets from the note's start, gABI). */
        private long up(long n) {
            return (n + align - 1) & -align; // n < 2^34: no overflow
        }

        private boolean isXen(long name, long namesz) {
            if (namesz != XEN.length && namesz != XEN.length + 1) {
                return false;
            }
            for (int i = 0; i < XEN.length; i++) {
                if (r.b[(int) name + i] != XEN[i]) {
                    return false;
                }
            }
            return namesz == XEN.length || r.b[(int) name + XEN.length] == 0;
        }

        private long value(long desc, long descsz) {
            long v;
            if (descsz == 4) {
                v = r.u32l(desc);
            } else if (descsz == 8) {
                v = r.b64(desc);
            } else {
                throw new IllegalArgumentException("XEN_ELFNOTE_PHYS32_ENTRY at file offset 0x" + Long.toHexString(desc)
                        + " has a " + descsz + "-byte descriptor, expected 4 or 8");
            }
            if (v < 0 || v >= FOUR_GIB) {
                throw new IllegalArgumentException("XEN_ELFNOTE_PHYS32_ENTRY at file offset 0x" + Long.toHexString(desc)
                        + " is 0x" + Long.toUnsignedString(v, 16) + ", not below 4 GiB");
            }
            return v;
        }
    }
}
