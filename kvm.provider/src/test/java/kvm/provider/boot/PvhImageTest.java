package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import kvm.provider.kvm.KvmTestSupport;
import org.junit.jupiter.api.Test;

/** {@link PvhImage} on ELF32 and ELF64 images built here, good and malformed. */
public class PvhImageTest {
    public static final long ENTRY = 0x100000;
    public static final byte[] CODE = KvmTestSupport.bytes(0x89, 0xd8, 0xe7, 0x80, 0x8b, 0x03, 0xe7, 0x81, 0xf4, 0x90, 0x90,
            0x90, 0x90, 0x90, 0x90, 0x90);
    static final long MEMSZ = 0x2000;

    /** A tiny ELF writer: the header, the program header table right after it, then each segment's bytes. */
    public static final class Elf {
        record Ph(int type, long paddr, long vaddr, int flags, byte[] data, long memsz, long align) {
        }

        final boolean is64;
        int machine;
        final List<Ph> phs = new ArrayList<>();

        public Elf(boolean is64) {
            this.is64 = is64;
            this.machine = is64 ? PvhImage.EM_X86_64 : PvhImage.EM_386;
        }

        public Elf load(long paddr, byte[] data, long memsz) {
            return load(paddr, paddr, PvhImage.PF_X | 4, data, memsz);
        }

        /** A PT_LOAD linked at {@code vaddr} with p_flags {@code flags} (PF_X 1, PF_W 2, PF_R 4). */
        public Elf load(long paddr, long vaddr, int flags, byte[] data, long memsz) {
            phs.add(new Ph(PvhImage.PT_LOAD, paddr, vaddr, flags, data, memsz, 0x1000));
            return this;
        }

        public Elf notes(int align, byte[]... notes) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] n : notes) {
                all.writeBytes(n);
            }
            byte[] data = all.toByteArray();
            phs.add(new Ph(PvhImage.PT_NOTE, 0, 0, 4, data, data.length, align));
            return this;
        }

        int ehsize() {
            return is64 ? 64 : 52;
        }

        int phentsize() {
            return is64 ? 56 : 32;
        }

        /** File offset of program header {@code i}'s field: "type", "offset", "paddr", "filesz", "memsz", "align". */
        long ph(int i, String field) {
            int at = switch (field) {
                case "type" -> 0;
                case "offset" -> is64 ? 8 : 4;
                case "paddr" -> is64 ? 24 : 12;
                case "filesz" -> is64 ? 32 : 16;
                case "memsz" -> is64 ? 40 : 20;
                case "align" -> is64 ? 48 : 28;
                default -> throw new IllegalArgumentException(field);
            };
            return ehsize() + (long) i * phentsize() + at;
        }

        /** Width in bytes of an address-sized field (p_offset, p_paddr, ...). */
        int word() {
            return is64 ? 8 : 4;
        }

        public byte[] build() {
            long data = align8(ehsize() + (long) phs.size() * phentsize());
            long[] offsets = new long[phs.size()];
            for (int i = 0; i < phs.size(); i++) {
                offsets[i] = data;
                data = align8(data + phs.get(i).data().length);
            }
            byte[] b = new byte[(int) data];
            b[0] = 0x7f;
            b[1] = 'E';
            b[2] = 'L';
            b[3] = 'F';
            b[4] = (byte) (is64 ? 2 : 1);
            b[5] = 1;
            b[6] = 1;
            put(b, 16, PvhImage.ET_EXEC, 2);
            put(b, 18, machine, 2);
            put(b, 20, 1, 4);
            put(b, is64 ? 32 : 28, ehsize(), word()); // e_phoff
            put(b, is64 ? 52 : 40, ehsize(), 2);
            put(b, is64 ? 54 : 42, phentsize(), 2);
            put(b, is64 ? 56 : 44, phs.size(), 2);
            for (int i = 0; i < phs.size(); i++) {
                Ph p = phs.get(i);
                put(b, ph(i, "type"), p.type(), 4);
                put(b, ph(i, "offset"), offsets[i], word());
                put(b, ph(i, "paddr"), p.paddr(), word());
                put(b, ph(i, "paddr") - word(), p.vaddr(), word()); // p_vaddr
                put(b, ehsize() + (long) i * phentsize() + (is64 ? 4 : 24), p.flags(), 4); // p_flags
                put(b, ph(i, "filesz"), p.data().length, word());
                put(b, ph(i, "memsz"), p.memsz(), word());
                put(b, ph(i, "align"), p.align(), word());
                System.arraycopy(p.data(), 0, b, (int) offsets[i], p.data().length);
            }
            return b;
        }

        private static long align8(long n) {
            return (n + 7) & -8;
        }
    }

    /** One ELF note (namesz includes the NUL), padded to {@code align} as the gABI says. */
    public static byte[] note(String name, int type, byte[] desc, int align) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.US_ASCII);
        int descOff = up(12 + n.length, align);
        byte[] b = new byte[up(descOff + desc.length, align)];
        put(b, 0, n.length, 4);
        put(b, 4, desc.length, 4);
        put(b, 8, type, 4);
        System.arraycopy(n, 0, b, 12, n.length);
        System.arraycopy(desc, 0, b, descOff, desc.length);
        return b;
    }

    public static byte[] le(long value, int bytes) {
        byte[] b = new byte[bytes];
        put(b, 0, value, bytes);
        return b;
    }

    static void put(byte[] b, long at, long value, int bytes) {
        for (int i = 0; i < bytes; i++) {
            b[(int) at + i] = (byte) (value >>> (8 * i));
        }
    }

    private static int up(int n, int align) {
        return (n + align - 1) & -align;
    }

    /**
     * A PVH image: CODE at ENTRY with bss up to MEMSZ, and notes: a GNU one, Xen's GUEST_OS
     * "generic", HYPERCALL_PAGE (it calls Xen through the hypercall page), then PHYS32_ENTRY.
     */
    public static Elf image(boolean is64, int descBytes) {
        return new Elf(is64).load(ENTRY, CODE, MEMSZ).notes(4, note("GNU", 3, le(0x1234, 4), 4),
                note("Xen", PvhImage.XEN_ELFNOTE_GUEST_OS, "generic\0".getBytes(StandardCharsets.US_ASCII), 4),
                note("Xen", PvhImage.XEN_ELFNOTE_HYPERCALL_PAGE, le(0x1000, descBytes), 4),
                note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY, descBytes), 4));
    }

    @Test
    void parsesElf64WithAn8ByteNoteAndElf32WithA4ByteNote() {
        for (boolean is64 : new boolean[] {true, false}) {
            PvhImage image = PvhImage.parse(image(is64, is64 ? 8 : 4).build());
            assertEquals(ENTRY, image.entry());
            assertEquals(1, image.segments().size());
            PvhImage.Segment s = image.segments().get(0);
            assertEquals(ENTRY, s.paddr());
            assertEquals(CODE.length, s.fileSize());
            assertEquals(MEMSZ, s.memSize());
            assertEquals(ENTRY, image.lowest());
            assertEquals(ENTRY + MEMSZ, image.end());
        }
    }

    @Test
    void theXenNotesSayHowItCallsXenAndWhatItIs() {
        PvhImage image = PvhImage.parse(image(true, 8).build());
        assertTrue(image.hypercallPageNote());
        assertEquals("generic", image.guestOs());
        PvhImage bare = PvhImage.parse(new Elf(true).load(ENTRY, CODE, MEMSZ)
                .notes(4, note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY, 8), 4)).build());
        assertFalse(bare.hypercallPageNote());
        assertEquals("", bare.guestOs());
        String odd = "li\u0001nux" + "x".repeat(100) + "\0";
        PvhImage named = PvhImage.parse(new Elf(true).load(ENTRY, CODE, MEMSZ).notes(4,
                note("Xen", PvhImage.XEN_ELFNOTE_GUEST_OS, odd.getBytes(StandardCharsets.ISO_8859_1), 4),
                note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY, 8), 4)).build());
        assertEquals("li?nux" + "x".repeat(58), named.guestOs(), "printable, at most 64 characters");
    }

    @Test
    void descriptorSizeDoesNotDependOnTheClass() {
        assertEquals(ENTRY, PvhImage.parse(image(true, 4).build()).entry());
        assertEquals(ENTRY, PvhImage.parse(image(false, 8).build()).entry());
    }

    @Test
    void notesOfAnEightAlignedNoteSegment() {
        byte[] elf = new Elf(true).load(ENTRY, CODE, MEMSZ).notes(8, note("GNU", 5, le(7, 12), 8),
                note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY + 4, 8), 8)).build();
        assertEquals(ENTRY + 4, PvhImage.parse(elf).entry());
    }

    @Test
    void severalSegmentsAndAnEmptyOneIgnored() {
        byte[] elf = new Elf(true).load(0x200000, new byte[] {1, 2, 3}, 3).load(0x300000, new byte[0], 0)
                .load(ENTRY, CODE, 0x10).notes(4, note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY, 8), 4))
                .build();
        PvhImage image = PvhImage.parse(elf);
        assertEquals(2, image.segments().size());
        assertEquals(ENTRY, image.lowest());
        assertEquals(0x200003, image.end());
    }

    @Test
    void loadCopiesTheFileBytesAndZeroesTheBss() {
        PvhImage image = PvhImage.parse(image(false, 4).build());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(4L << 20);
            ram.fill((byte) 0xaa);
            image.load(ram);
            assertArrayEquals(CODE, ram.asSlice(ENTRY, CODE.length).toArray(ValueLayout.JAVA_BYTE));
            byte[] bss = ram.asSlice(ENTRY + CODE.length, MEMSZ - CODE.length).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(new byte[bss.length], bss);
            assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, ENTRY - 1));
            assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, ENTRY + MEMSZ));
        }
    }

    @Test
    void loadRefusesASegmentBeyondRamBeforeWritingAnything() {
        byte[] elf = new Elf(true).load(ENTRY, CODE, 0x10).load(0x1ff000, new byte[] {1}, 0x2000)
                .notes(4, note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, le(ENTRY, 8), 4)).build();
        PvhImage image = PvhImage.parse(elf);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(2L << 20);
            ram.fill((byte) 0xaa);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> image.load(ram));
            assertTrue(e.getMessage().contains("segment 1") && e.getMessage().contains("RAM of 0x200000"),
                    e.getMessage());
            assertEquals((byte) 0xaa, ram.get(ValueLayout.JAVA_BYTE, ENTRY));
        }
    }

    @Test
    void refusesBadHeaders() {
        byte[] good = image(true, 8).build();
        refused(new byte[10], "too short: 10 bytes");
        refused(Arrays.copyOf(good, 40), "ELF64 header needs 64");
        refused(with(good, 1, 'e', 1), "bad ELF magic at offset 0");
        refused(with(good, 4, 3, 1), "EI_CLASS 3 at offset 4");
        refused(with(good, 5, 2, 1), "not little-endian: EI_DATA 2 at offset 5");
        refused(with(good, 16, 3, 2), "e_type 3 at offset 16");
        refused(with(good, 18, 40, 2), "e_machine 40 at offset 18");
        refused(with(good, 54, 64, 2), "e_phentsize 64 at offset 54");
        refused(with(good, 32, good.length - 8, 8), "program header table");
        refused(with(good, 32, -1, 8), "program header table");
        refused(with(image(false, 4).build(), 28, 0xfffffff0L, 4), "program header table");
    }

    @Test
    void refusesBadSegments() {
        for (boolean is64 : new boolean[] {true, false}) {
            Elf elf = image(is64, 4);
            byte[] good = elf.build();
            int w = elf.word();
            refused(with(good, elf.ph(0, "offset"), good.length - 4, w), "outside the file");
            refused(with(good, elf.ph(0, "filesz"), 0xfffffff0L, w), "outside the file");
            refused(with(good, elf.ph(1, "offset"), good.length, w), "program header 1");
            refused(with(good, elf.ph(0, "memsz"), CODE.length - 1, w), "p_filesz 0x10 > p_memsz 0xf");
            refused(with(good, elf.ph(0, "paddr"), 0xffffff00L, w), is64 ? null : "overflows the 32-bit");
            refused(with(good, elf.ph(0, "type"), 6, 4), "no PT_LOAD segment");
        }
        Elf elf = image(true, 4);
        refused(with(elf.build(), elf.ph(0, "paddr"), 0x7fffffffffffff00L, 8), "overflows the 63-bit");
        refused(with(elf.build(), elf.ph(0, "paddr"), -4096, 8), "overflows the 63-bit");
        refused(with(elf.build(), elf.ph(0, "filesz"), -1, 8), "outside the file");
    }

    @Test
    void refusesMissingOrBadEntryNotes() {
        String none = "not a PVH image: no XEN_ELFNOTE_PHYS32_ENTRY note";
        refused(withNotes(note("Xen", 17, le(ENTRY, 4), 4)), none);
        refused(withNotes(note("Xeo", 18, le(ENTRY, 4), 4)), none);
        refused(withNotes(note("Xen!", 18, le(ENTRY, 4), 4)), none);
        refused(new Elf(true).load(ENTRY, CODE, MEMSZ).build(), none);
        refused(withNotes(note("Xen", 18, le(ENTRY, 2), 4)), "2-byte descriptor, expected 4 or 8");
        refused(withNotes(note("Xen", 18, le(1L << 32, 8), 4)), "is 0x100000000, not below 4 GiB");
        refused(withNotes(note("Xen", 18, le(-1, 8), 4)), "is 0xffffffffffffffff, not below 4 GiB");
        refused(withNotes(note("Xen", 18, le(ENTRY - 1, 4), 4)), "entry 0xfffff is not inside");
        refused(withNotes(note("Xen", 18, le(ENTRY + CODE.length, 4), 4)), "entry 0x100010 is not inside");
        refused(withNotes(note("Xen", 18, le(ENTRY, 4), 4), note("Xen", 18, le(ENTRY + 1, 4), 4)),
                "two different XEN_ELFNOTE_PHYS32_ENTRY");
        assertEquals(ENTRY, PvhImage.parse(withNotes(note("Xen", 18, le(ENTRY, 4), 4),
                note("Xen", 18, le(ENTRY, 8), 4))).entry());
    }

    @Test
    void refusesMalformedNotes() {
        byte[] namesz = note("Xen", 18, le(ENTRY, 4), 4);
        put(namesz, 0, 0x100, 4);
        refused(withNotes(namesz), "malformed note at file offset");
        byte[] descsz = note("Xen", 18, le(ENTRY, 4), 4);
        put(descsz, 4, 0xfffffffcL, 4);
        refused(withNotes(descsz), "namesz 4, descsz 4294967292 run past");
        byte[] cut = Arrays.copyOf(note("Xen", 18, le(ENTRY, 8), 4), 22);
        refused(withNotes(cut), "malformed note");
    }

    private static byte[] withNotes(byte[]... notes) {
        return new Elf(false).load(ENTRY, CODE, MEMSZ).notes(4, notes).build();
    }

    @Test
    void randomMutationsOnlyEverGiveIllegalArgumentException() {
        Random random = new Random(0x5eed_f00dL);
        byte[][] goods = {image(true, 8).build(), image(false, 4).build(), image(true, 4).build()};
        int parsed = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(2L << 20);
            for (int n = 0; n < 2000; n++) {
                byte[] b = mutate(goods[n % goods.length], random);
                try {
                    PvhImage.parse(b).load(ram);
                    parsed++;
                } catch (IllegalArgumentException expected) {
                    assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
                } catch (Throwable t) {
                    fail("mutation " + n + " threw " + t, t);
                }
            }
        }
        assertTrue(parsed > 0 && parsed < 2000, "some mutations parse, some do not: " + parsed);
    }

    private static byte[] mutate(byte[] good, Random random) {
        byte[] b = good.clone();
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits; i++) {
            switch (random.nextInt(4)) {
                case 0 -> b[random.nextInt(b.length)] = (byte) random.nextInt();
                case 1 -> {
                    long[] interesting = {0, 1, -1, 0x7fffffff, 0x80000000L, 0xffffffffL, Long.MIN_VALUE,
                            Long.MAX_VALUE, b.length, b.length - 1, ENTRY, random.nextLong()};
                    int width = random.nextBoolean() ? 4 : 8;
                    if (b.length >= width) {
                        int at = random.nextInt(Math.min(b.length, 0x100) - width + 1) & ~(width - 1);
                        put(b, at, interesting[random.nextInt(interesting.length)], width);
                    }
                }
                case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length + 1));
                default -> {
                    if (b.length > 0) {
                        b[random.nextInt(Math.min(b.length, 0x100))] ^= (byte) (1 << random.nextInt(8));
                    }
                }
            }
            if (b.length == 0) {
                break;
            }
        }
        return b;
    }

    private static byte[] with(byte[] good, long at, long value, int bytes) {
        byte[] b = good.clone();
        put(b, at, value, bytes);
        return b;
    }

    /** Expects parse to refuse {@code elf} with a message containing {@code text} (null: any message). */
    private static void refused(byte[] elf, String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PvhImage.parse(elf));
        if (text != null) {
            assertTrue(e.getMessage().contains(text), () -> "expected \"" + text + "\" in: " + e.getMessage());
        }
    }
}
