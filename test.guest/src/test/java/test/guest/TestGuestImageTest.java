package test.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import kvm.provider.xen.HypercallSites;
import kvm.provider.boot.PvhImage;
import org.junit.jupiter.api.Test;

/** The image the build assembled, parsed minimally: no KVM needed. */
class TestGuestImageTest {
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int PF_X = 1;
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    /** The RAM the KVM backend gives a PVH guest: the image must fit. */
    private static final long GUEST_RAM = 16L << 20;

    /** The image, or the test skipped (no toolchain here) or failed (a toolchain, but no image). */
    private static ByteBuffer image() {
        var bytes = TestGuestImage.bytes();
        if (bytes.isEmpty()) {
            String missing = missingToolchain();
            assumeTrue(missing == null, () -> "the test guest image was not built: " + missing);
            fail("gcc, as and ld are here but the build did not produce " + TestGuestImage.RESOURCE);
        }
        return ByteBuffer.wrap(bytes.get()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Why build.sh would not assemble the image here, or null if it would. */
    private static String missingToolchain() {
        if (File.separatorChar != '/') {
            return "not a unix-like OS (the assemble-test-guest profile needs sh)";
        }
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String cc = System.getenv().getOrDefault("CC", "gcc");
        String ld = System.getenv().getOrDefault("LD", "ld");
        if (!arch.equals("amd64") && !arch.equals("x86_64") && System.getenv("CC") == null) {
            return "not an x86-64 host and no CC set";
        }
        for (String tool : List.of(cc, ld, "as")) {
            if (!onPath(tool)) {
                return tool + " not found on PATH";
            }
        }
        return null;
    }

    private static boolean onPath(String tool) {
        if (tool.contains("/")) {
            return Files.isExecutable(Path.of(tool));
        }
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator))
                .filter(dir -> !dir.isEmpty())
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    }

    private record Phdr(int type, int flags, long offset, long vaddr, long paddr, long filesz, long memsz) {
    }

    private static List<Phdr> programHeaders(ByteBuffer elf) {
        long phoff = elf.getLong(32);
        int phentsize = Short.toUnsignedInt(elf.getShort(54));
        int phnum = Short.toUnsignedInt(elf.getShort(56));
        assertEquals(56, phentsize, "e_phentsize");
        assertTrue(phnum > 0 && phoff + (long) phnum * phentsize <= elf.capacity(), "program headers inside the file");
        List<Phdr> out = new ArrayList<>();
        for (int i = 0; i < phnum; i++) {
            int at = Math.toIntExact(phoff + (long) i * phentsize);
            out.add(new Phdr(elf.getInt(at), elf.getInt(at + 4), elf.getLong(at + 8), elf.getLong(at + 16),
                    elf.getLong(at + 24), elf.getLong(at + 32), elf.getLong(at + 40)));
        }
        return out;
    }

    /** The descriptors of every Xen note of type PHYS32_ENTRY in the PT_NOTE segments. */
    private static List<byte[]> phys32EntryNotes(ByteBuffer elf, List<Phdr> phdrs) {
        List<byte[]> found = new ArrayList<>();
        for (Phdr ph : phdrs) {
            if (ph.type() != PT_NOTE) {
                continue;
            }
            assertTrue(ph.offset() + ph.filesz() <= elf.capacity(), "PT_NOTE inside the file");
            int at = Math.toIntExact(ph.offset());
            int end = Math.toIntExact(ph.offset() + ph.filesz());
            while (at + 12 <= end) {
                int namesz = elf.getInt(at);
                int descsz = elf.getInt(at + 4);
                int type = elf.getInt(at + 8);
                int name = at + 12;
                int desc = name + align4(namesz);
                assertTrue(namesz >= 0 && descsz >= 0 && desc + align4(descsz) <= end, "note inside PT_NOTE");
                byte[] nameBytes = new byte[namesz];
                elf.get(name, nameBytes);
                if (type == XEN_ELFNOTE_PHYS32_ENTRY
                        && new String(nameBytes, StandardCharsets.US_ASCII).equals("Xen\0")) {
                    byte[] d = new byte[descsz];
                    elf.get(desc, d);
                    found.add(d);
                }
                at = desc + align4(descsz);
            }
        }
        return found;
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    @Test
    void isAnX8664ElfExecutable() {
        ByteBuffer elf = image();
        byte[] ident = new byte[4];
        elf.get(0, ident);
        assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'}, ident, "ELF magic");
        assertEquals(2, elf.get(4), "EI_CLASS: ELFCLASS64");
        assertEquals(1, elf.get(5), "EI_DATA: little endian");
        assertEquals(2, elf.getShort(16), "e_type: ET_EXEC");
        assertEquals(62, elf.getShort(18), "e_machine: EM_X86_64");
    }

    @Test
    void hasAPhys32EntryNoteThatPointsIntoItsCode() {
        ByteBuffer elf = image();
        List<Phdr> phdrs = programHeaders(elf);
        List<byte[]> notes = phys32EntryNotes(elf, phdrs);
        assertEquals(1, notes.size(), "one Xen PHYS32_ENTRY note");
        assertEquals(4, notes.get(0).length, "the note's descriptor is 4 bytes");
        long entry = Integer.toUnsignedLong(ByteBuffer.wrap(notes.get(0)).order(ByteOrder.LITTLE_ENDIAN).getInt());
        assertEquals(elf.getLong(24), entry, "the note's entry is e_entry");
        assertTrue(phdrs.stream().anyMatch(ph -> ph.type() == PT_LOAD && (ph.flags() & PF_X) != 0
                        && entry >= ph.paddr() && entry < ph.paddr() + ph.filesz()),
                () -> "entry 0x" + Long.toHexString(entry) + " is in an executable PT_LOAD's file bytes");
    }

    @Test
    void loadsAtOneMibAndFitsTheGuestRam() {
        ByteBuffer elf = image();
        List<Phdr> loads = programHeaders(elf).stream().filter(ph -> ph.type() == PT_LOAD).toList();
        assertFalse(loads.isEmpty(), "PT_LOAD segments");
        assertEquals(TestGuestImage.LOAD_ADDRESS, loads.stream().mapToLong(Phdr::paddr).min().orElseThrow(),
                "lowest physical address");
        for (Phdr ph : loads) {
            assertEquals(ph.paddr(), ph.vaddr(), "identity mapped: vaddr = paddr");
            assertTrue(ph.filesz() <= ph.memsz(), "p_filesz <= p_memsz");
            assertTrue(ph.offset() + ph.filesz() <= elf.capacity(), "segment inside the file");
            assertTrue(ph.paddr() + ph.memsz() <= GUEST_RAM, "segment inside 16 MiB of guest RAM");
        }
    }

    /** The constants the host's tests use are the strings the guest prints and parses. */
    @Test
    void carriesTheStringsThisClassNames() {
        String text = new String(image().array(), StandardCharsets.ISO_8859_1);
        List<String> expected = new ArrayList<>(List.of(TestGuestImage.SUCCESS, TestGuestImage.FAILURE,
                TestGuestImage.HOSTILE_TRIPLE_FAULT, TestGuestImage.HOSTILE_RING3, TestGuestImage.HOSTILE_BAD_ARGS,
                "bench=", TestGuestImage.PASS_PREFIX, TestGuestImage.FAIL_PREFIX));
        Stream.of(TestGuestImage.DEFAULT_PASSES, TestGuestImage.BENCH_PASSES, TestGuestImage.RING3_PASSES,
                TestGuestImage.BAD_ARGS_PASSES).forEach(expected::addAll);
        for (String s : expected) {
            assertTrue(text.contains(s + "\0"), () -> "the image has the string \"" + s + "\"");
        }
    }

    @Test
    void bytesAreAFreshCopy() {
        byte[] first = image().array();
        first[0] = 0;
        assertEquals(0x7f, TestGuestImage.bytes().orElseThrow()[0]);
    }

    /** Each variant offers the host exactly one way of trapping its hypercalls. */
    @Test
    void eachVariantCallsXenItsOwnWay() {
        image();
        PvhImage page = PvhImage.parse(TestGuestImage.bytes(TestGuestImage.Variant.HYPERCALL_PAGE).orElseThrow());
        assertTrue(page.hypercallPageNote(), "XEN_ELFNOTE_HYPERCALL_PAGE");
        assertTrue(HypercallSites.find(page).isEmpty(), () -> "no VMCALL/VMMCALL sites: " + HypercallSites.find(page));
        PvhImage vmcall = PvhImage.parse(TestGuestImage.bytes(TestGuestImage.Variant.VMCALL).orElseThrow());
        assertFalse(vmcall.hypercallPageNote());
        HypercallSites sites = HypercallSites.find(vmcall);
        assertEquals(List.of(HypercallSites.Instruction.VMCALL, HypercallSites.Instruction.VMMCALL),
                sites.sites().stream().map(HypercallSites.Site::instruction).toList(), sites::toString);
    }

    @Test
    void benchCommandLine() {
        assertEquals("bench=1000", TestGuestImage.bench(1000));
        assertEquals("bench=0", TestGuestImage.bench(0));
        assertEquals("bench=4294967295", TestGuestImage.bench(0xffff_ffffL));
        assertThrows(IllegalArgumentException.class, () -> TestGuestImage.bench(-1));
        assertThrows(IllegalArgumentException.class, () -> TestGuestImage.bench(1L << 32));
    }
}
