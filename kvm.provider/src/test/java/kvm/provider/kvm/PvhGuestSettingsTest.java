package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PvhGuestSettings} from framework properties, and the image it reads: no KVM needed. */
class PvhGuestSettingsTest {
    private static PvhGuestSettings from(Map<String, String> properties) {
        return PvhGuestSettings.from(properties::get);
    }

    /** xen.guest=kernel, xen.kernel=file, and {@code more} (key, value, key, value...). */
    private static Map<String, String> kernel(String file, String... more) {
        Map<String, String> p = new HashMap<>(Map.of("xen.guest", "kernel", "xen.kernel", file));
        for (int i = 0; i < more.length; i += 2) {
            p.put(more[i], more[i + 1]);
        }
        return p;
    }

    @Test
    void bootsOnlyWhenAskedForAKernel() {
        assertFalse(from(Map.of()).boot());
        assertFalse(from(Map.of("xen.guest", "reference", "xen.kernel", "/x")).boot(), "another booter's guest");
        assertFalse(from(Map.of("xen.guest.memory", "lots")).boot(), "settings are read only for a guest to boot");
        assertTrue(from(Map.of("xen.guest", " kernel ", "xen.kernel", "/x")).boot());
    }

    @Test
    void defaultsAreOneVcpu64MibAndNoCommandLine() {
        PvhGuestSettings s = from(kernel("/boot/pvh.elf"));
        assertEquals(new PvhGuestSettings(true, Path.of("/boot/pvh.elf"), "", 1, 64L << 20), s);
        KvmConfig config = s.config(line -> { });
        assertEquals(1, config.vcpus());
        assertEquals(64L << 20, config.ramBytes());
        assertFalse(config.irqchip(), "one vCPU needs no local APIC");
    }

    @Test
    void readsEverySettingAndMakesTheKernelPathAbsolute() {
        PvhGuestSettings s = from(kernel("some/dir/../pvh.elf", "xen.kernel.cmdline", " console=hvc0 quiet",
                "xen.guest.vcpus", "4", "xen.guest.memory", "256"));
        assertEquals(Path.of("some/pvh.elf").toAbsolutePath(), s.kernel());
        assertEquals(" console=hvc0 quiet", s.cmdline(), "the command line is the guest's, as given");
        assertEquals(4, s.vcpus());
        assertEquals(256L << 20, s.ramBytes());
        assertTrue(s.config(line -> { }).irqchip(), "secondary vCPUs start through the in-kernel local APICs");
    }

    @Test
    void memoryIsRoundedUpToTwoMib() {
        assertEquals(2L << 20, from(kernel("/k", "xen.guest.memory", "1")).ramBytes());
        assertEquals(66L << 20, from(kernel("/k", "xen.guest.memory", "65")).ramBytes());
        assertEquals(KvmConfig.MAX_RAM, from(kernel("/k", "xen.guest.memory", "65536")).ramBytes());
    }

    @Test
    void badValuesNameTheProperty() {
        assertMessage("xen.guest=kernel needs xen.kernel, the path of a PVH kernel image", Map.of("xen.guest", "kernel"));
        assertMessage("xen.guest=kernel needs xen.kernel, the path of a PVH kernel image",
                Map.of("xen.guest", "kernel", "xen.kernel", "  "));
        assertMessage("xen.guest.vcpus must be 1..64: got 0", kernel("/k", "xen.guest.vcpus", "0"));
        assertMessage("xen.guest.vcpus must be 1..64: got 65", kernel("/k", "xen.guest.vcpus", "65"));
        assertMessage("xen.guest.vcpus must be a whole number: got \"two\"", kernel("/k", "xen.guest.vcpus", "two"));
        assertMessage("xen.guest.memory must be 1..65536: got 0", kernel("/k", "xen.guest.memory", "0"));
        assertMessage("xen.guest.memory must be 1..65536: got 65537", kernel("/k", "xen.guest.memory", "65537"));
        assertMessage("xen.guest.memory must be a whole number: got \"64M\"", kernel("/k", "xen.guest.memory", "64M"));
        assertMessage("xen.kernel.cmdline must be ASCII without NUL: character U+00E9 at index 1",
                kernel("/k", "xen.kernel.cmdline", "r\u00e9sum\u00e9"));
        assertMessage("xen.kernel.cmdline is 4096 characters long, at most 4095",
                kernel("/k", "xen.kernel.cmdline", "x".repeat(4096)));
        assertEquals(4095, from(kernel("/k", "xen.kernel.cmdline", "x".repeat(4095))).cmdline().length());
    }

    private static void assertMessage(String expected, Map<String, String> properties) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> from(properties)).getMessage());
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
        assertImage("xen.kernel: " + missing + " does not exist", missing);
        assertImage("xen.kernel: " + dir + " is not a regular file", dir);

        Path text = Files.writeString(dir.resolve("notes.txt"), "not an ELF file at all, just some text here");
        String message = imageFailure(text);
        assertTrue(message.startsWith("xen.kernel: " + text + " is not a PVH kernel image: "), message);

        // An ELF without the PVH entry note: parse's reason is passed on.
        byte[] plain = new PvhImageTest.Elf(true).load(PvhImageTest.ENTRY, PvhImageTest.CODE, 0x100).build();
        Path elf = Files.write(dir.resolve("plain.elf"), plain);
        message = imageFailure(elf);
        assertEquals("xen.kernel: " + elf + " is not a PVH kernel image: not a PVH image: no XEN_ELFNOTE_PHYS32_ENTRY note",
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
