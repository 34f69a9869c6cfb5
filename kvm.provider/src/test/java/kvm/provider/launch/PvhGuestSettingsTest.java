package kvm.provider.launch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kvm.provider.boot.PvhImage;
import kvm.provider.boot.PvhImageTest;
import kvm.provider.xen.KvmConfig;
import xen.evtchn.api.bus.DiskSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PvhGuestSettings} from a configuration, and the image it reads: no KVM needed. */
class PvhGuestSettingsTest {
    private static PvhGuestSettings from(Map<String, String> properties) {
        return PvhGuestSettings.from(properties);
    }

    /** domid=1, kernel=file, and {@code more} (key, value, key, value...). */
    private static Map<String, String> kernel(String file, String... more) {
        Map<String, String> p = new HashMap<>(Map.of("domid", "1", "kernel", file));
        for (int i = 0; i < more.length; i += 2) {
            p.put(more[i], more[i + 1]);
        }
        return p;
    }

    @Test
    void theDomidIsRequiredAndAGuestDomid() {
        assertMessage("configuration xen.domain.kernel: domid is required (1..32751)", Map.of("kernel", "/k"));
        assertMessage("configuration xen.domain.kernel: domid must be 1..32751: got 0", Map.of("domid", "0", "kernel", "/k"));
        assertEquals(7, PvhGuestSettings.from(Map.of("domid", 7, "kernel", "/k")).domid(), "typed values too");
        assertEquals("4.19", from(kernel("/k", "xen.version", "4.19")).xenVersion());
    }

    @Test
    void defaultsAreOneVcpu64MibAndNoCommandLine() {
        PvhGuestSettings s = from(kernel("/boot/pvh.elf"));
        assertEquals(new PvhGuestSettings(1, Path.of("/boot/pvh.elf"), "", 1, 64L << 20, null, null, null, true, List.of(), 0), s);
        KvmConfig config = s.config(line -> { }, image(""));
        assertEquals(1, config.vcpus());
        assertEquals(64L << 20, config.ramBytes());
        assertFalse(config.irqchip(), "one vCPU needs no local APIC");
    }

    @Test
    void consolesAreZeroToFifteen() {
        assertEquals(3, from(kernel("/k", "consoles", "3")).consoles());
        assertEquals(15, from(kernel("/k", "consoles", "15")).consoles());
        assertMessage("configuration xen.domain.kernel: consoles must be 0..15: got 16", kernel("/k", "consoles", "16"));
        assertMessage("configuration xen.domain.kernel: consoles must be a whole number: got \"two\"",
                kernel("/k", "consoles", "two"));
    }

    @Test
    void readsEverySettingAndMakesTheKernelPathAbsolute() {
        PvhGuestSettings s = from(kernel("some/dir/../pvh.elf", "cmdline", " console=hvc0 quiet",
                "vcpus", "4", "memory", "256"));
        assertEquals(Path.of("some/pvh.elf").toAbsolutePath(), s.kernel());
        assertEquals(" console=hvc0 quiet", s.cmdline(), "the command line is the guest's, as given");
        assertEquals(4, s.vcpus());
        assertEquals(256L << 20, s.ramBytes());
        assertTrue(s.config(line -> { }, image("")).irqchip(), "secondary vCPUs start through the in-kernel local APICs");
    }

    /** A PVH image whose XEN_ELFNOTE_GUEST_OS is {@code os} (none if empty). */
    static PvhImage image(String os) {
        PvhImageTest.Elf elf = PvhImageTest.image(true, 8);
        if (!os.isEmpty()) {
            elf.notes(4, PvhImageTest.note("Xen", PvhImage.XEN_ELFNOTE_GUEST_OS, (os + "\0").getBytes(StandardCharsets.US_ASCII), 4));
        }
        return PvhImage.parse(elf.build());
    }

    @Test
    void theIrqchipIsOnForLinuxOrMoreVcpusUnlessSaidOtherwise() {
        PvhImage linux = image("linux");
        assertEquals("linux", linux.guestOs());
        assertTrue(from(kernel("/k")).config(line -> { }, linux).irqchip(), "Linux's timer needs a local APIC");
        assertFalse(from(kernel("/k")).config(line -> { }, image("mini-os")).irqchip());
        assertFalse(from(kernel("/k", "irqchip", "false")).config(line -> { }, linux).irqchip());
        assertTrue(from(kernel("/k", "irqchip", "true")).config(line -> { }, image("")).irqchip());
        assertMessage("irqchip must be true, false or auto: got \"maybe\"", kernel("/k", "irqchip", "maybe"));
    }

    @Test
    void theInitrdIsReadAndConsoleLinesCanBeTurnedOff(@TempDir Path dir) throws IOException {
        Path initrd = Files.write(dir.resolve("initrd.cpio"), new byte[] {1, 2, 3});
        PvhGuestSettings s = from(kernel("/k", "initrd", initrd.toString(), "console.lines", "false"));
        assertEquals(initrd, s.initrd());
        assertArrayEquals(new byte[] {1, 2, 3}, s.initrdBytes());
        assertFalse(s.consoleLines());
        assertNull(from(kernel("/k")).initrdBytes(), "no initrd by default");
        Path missing = dir.resolve("none.cpio");
        assertEquals("configuration xen.domain.kernel: initrd: " + missing + " does not exist",
                assertThrows(IllegalArgumentException.class, () -> from(kernel("/k", "initrd", missing.toString())).initrdBytes())
                        .getMessage());
        Path empty = Files.write(dir.resolve("empty.cpio"), new byte[0]);
        assertEquals("configuration xen.domain.kernel: initrd: " + empty + " is empty",
                assertThrows(IllegalArgumentException.class, () -> from(kernel("/k", "initrd", empty.toString())).initrdBytes())
                        .getMessage());
    }

    @Test
    void memoryIsRoundedUpToTwoMib() {
        assertEquals(2L << 20, from(kernel("/k", "memory", "1")).ramBytes());
        assertEquals(66L << 20, from(kernel("/k", "memory", "65")).ramBytes());
        assertEquals(KvmConfig.MAX_RAM, from(kernel("/k", "memory", "65536")).ramBytes());
    }

    @Test
    void disksAreParsedAndTheirImagesChecked(@TempDir Path dir) throws IOException {
        Path a = Files.write(dir.resolve("a.img"), new byte[1 << 16]);
        Path b = Files.write(dir.resolve("b.img"), new byte[512]);
        assertEquals(List.of(new DiskSpec(a, "xvda", false)), from(kernel("/k", "disk", a.toString())).disks());
        assertEquals(List.of(new DiskSpec(a, "xvdb", false), new DiskSpec(b, "xvda", true)),
                PvhGuestSettings.from(Map.of("domid", 1, "kernel", "/k", "disk",
                        new String[] {a + ",vdev=xvdb", b + ",ro"})).disks(), "a String[], as Config Admin gives a list");
        Path missing = dir.resolve("missing.img");
        assertMessage("disk xvda (" + missing + "): no such file", kernel("/k", "disk", missing.toString()));
        assertMessage("disk \"" + a + ",r\": unknown option \"r\" (FILE[,ro|rw][,vdev=xvdX]; a file name cannot contain a comma)",
                kernel("/k", "disk", a + ",r"));
        Path empty = Files.write(dir.resolve("empty.img"), new byte[0]);
        assertMessage("disk xvda (" + empty + "): 0 bytes, less than one 512-byte sector", kernel("/k", "disk", empty + ",ro"));
    }

    @Test
    void badValuesNameTheProperty() {
        assertMessage("kernel is required: the path of a PVH kernel image", Map.of("domid", "1"));
        assertMessage("kernel is required: the path of a PVH kernel image", Map.of("domid", "1", "kernel", "  "));
        assertMessage("vcpus must be 1..64: got 0", kernel("/k", "vcpus", "0"));
        assertMessage("vcpus must be 1..64: got 65", kernel("/k", "vcpus", "65"));
        assertMessage("vcpus must be a whole number: got \"two\"", kernel("/k", "vcpus", "two"));
        assertMessage("memory must be 1..65536: got 0", kernel("/k", "memory", "0"));
        assertMessage("memory must be 1..65536: got 65537", kernel("/k", "memory", "65537"));
        assertMessage("memory must be a whole number: got \"64M\"", kernel("/k", "memory", "64M"));
        assertMessage("cmdline must be ASCII without NUL: character U+00E9 at index 1",
                kernel("/k", "cmdline", "r\u00e9sum\u00e9"));
        assertMessage("cmdline is 4096 characters long, at most 4095",
                kernel("/k", "cmdline", "x".repeat(4096)));
        assertEquals(4095, from(kernel("/k", "cmdline", "x".repeat(4095))).cmdline().length());
    }

    private static void assertMessage(String expected, Map<String, String> properties) {
        String prefixed = expected.startsWith("configuration ") ? expected : "configuration xen.domain.kernel: " + expected;
        assertEquals(prefixed, assertThrows(IllegalArgumentException.class, () -> from(properties)).getMessage());
    }

    @Test
    void readsAndParsesTheImage(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        PvhImage image = from(kernel(file.toString())).image();
        assertEquals(PvhImageTest.ENTRY, image.entry());
    }

    @Test
    void aMissingUnreadableOrForeignImageIsNamed(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nowhere.elf");
        assertImage("configuration xen.domain.kernel: kernel: " + missing + " does not exist", missing);
        assertImage("configuration xen.domain.kernel: kernel: " + dir + " is not a regular file", dir);

        Path text = Files.writeString(dir.resolve("notes.txt"), "not an ELF file at all, just some text here");
        String message = imageFailure(text);
        assertTrue(message.startsWith("configuration xen.domain.kernel: kernel: " + text + " is not a PVH kernel image: "), message);

        // An ELF without the PVH entry note: parse's reason is passed on.
        byte[] plain = new PvhImageTest.Elf(true).load(PvhImageTest.ENTRY, PvhImageTest.CODE, 0x100).build();
        Path elf = Files.write(dir.resolve("plain.elf"), plain);
        message = imageFailure(elf);
        assertEquals("configuration xen.domain.kernel: kernel: " + elf + " is not a PVH kernel image: not a PVH image: no XEN_ELFNOTE_PHYS32_ENTRY note",
                message);
    }

    private static void assertImage(String expected, Path file) {
        assertEquals(expected, imageFailure(file));
    }

    private static String imageFailure(Path file) {
        PvhGuestSettings s = from(kernel(file.toString()));
        return assertThrows(IllegalArgumentException.class, s::image).getMessage();
    }
}
