package kvm.provider.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import kvm.provider.boot.KernelImage;
import kvm.provider.boot.PvhImage;
import kvm.provider.boot.PvhImageTest;
import kvm.provider.kvm.KvmTestSupport;
import kvm.provider.xen.HypercallSites.Instruction;
import kvm.provider.xen.HypercallSites.Site;
import org.junit.jupiter.api.Test;

/** {@link HypercallSites}: Linux's two hypercall functions told from every other vmcall/vmmcall. */
class HypercallSitesTest {
    static final long KERNEL_VA = 0xffffffff81000000L;
    static final long PA = 0x1000000;

    /** A code segment of {@code size} bytes of nops with {@code bytes} placed at {@code offset}. */
    static byte[] code(int size, Object... placed) {
        byte[] b = new byte[size];
        java.util.Arrays.fill(b, (byte) 0x90);
        for (int i = 0; i < placed.length; i += 2) {
            byte[] bytes = (byte[]) placed[i + 1];
            System.arraycopy(bytes, 0, b, (Integer) placed[i], bytes.length);
        }
        return b;
    }

    static byte[] bytes(int... b) {
        return KvmTestSupport.bytes(b);
    }

    static PvhImage image(long vaddr, int flags, byte[] code) {
        return PvhImage.parse(PvhImageTest.image(true, 8).load(PA + 0x100000, vaddr, flags, code, code.length).build());
    }

    @Test
    void findsLinuxsTwoFunctionsAndNothingElse() {
        byte[] text = code(0x400,
                0x100, bytes(0x0f, 0x01, 0xd9, 0xe9, 1, 2, 3, 4),          // xen_hypercall_amd: vmmcall; jmp thunk
                0x110, bytes(0x0f, 0x01, 0xc1, 0xc3, 0xcc),                  // xen_hypercall_intel: vmcall; ret
                0x123, bytes(0x0f, 0x01, 0xc1, 0xc3),                        // not aligned: inside a function
                0x140, bytes(0x0f, 0x01, 0xd9, 0x48, 0x89, 0xe7),            // KVM's paravirt call: code follows
                0x200, bytes(0x0f, 0x01, 0xc2, 0xc3),                        // vmlaunch: not a hypercall
                0x3f0, bytes(0x0f, 0x01, 0xc1));                             // at the very end, nothing after it
        HypercallSites sites = HypercallSites.find(image(KERNEL_VA, PvhImage.PF_X | 4, text));
        assertEquals(List.of(new Site(KERNEL_VA + 0x100, Instruction.VMMCALL), new Site(KERNEL_VA + 0x110, Instruction.VMCALL)),
                sites.sites());
        assertEquals(Instruction.VMCALL, sites.at(KERNEL_VA + 0x110).instruction());
        assertNull(sites.at(KERNEL_VA + 0x123));
        assertEquals("[0xffffffff81000100 (vmmcall), 0xffffffff81000110 (vmcall)]", sites.toString());
    }

    @Test
    void alignmentCountsInVirtualAddressesAndDataSegmentsAreSkipped() {
        byte[] text = code(0x100, 0x08, bytes(0x0f, 0x01, 0xc1, 0xc3));
        assertEquals(List.of(new Site(0x40000010L, Instruction.VMCALL)),
                HypercallSites.find(image(0x40000008L, PvhImage.PF_X | 4, text)).sites(), "aligned at 0x40000010");
        assertTrue(HypercallSites.find(image(0x40000000L, PvhImage.PF_X | 4, text)).isEmpty(), "0x40000008: not aligned");
        assertTrue(HypercallSites.find(image(0x40000008L, 4 | 2, text)).isEmpty(), "a data segment is never code");
    }

    @Test
    void moreSitesThanBreakpointsAreRefused() {
        byte[] site = bytes(0x0f, 0x01, 0xc1, 0xc3);
        byte[] text = code(0x100, 0x00, site, 0x10, site, 0x20, site, 0x30, site, 0x40, site);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HypercallSites.find(image(KERNEL_VA, PvhImage.PF_X | 4, text)));
        assertTrue(e.getMessage().startsWith("5 Xen hypercall instructions found"), e.getMessage());
        assertTrue(e.getMessage().endsWith("more than the 4 hardware breakpoints that can trap them"), e.getMessage());
    }

    /** Debian's cloud kernel, where the breakpoint path was first measured, if it is in linux.guest's cache. */
    @Test
    void debiansKernelHasExactlyTheTwoAdjacentFunctions() throws IOException {
        Path vmlinux = cachedKernel();
        assumeTrue(vmlinux != null, "no Debian kernel: run linux.guest's StockLinux (it fetches one into "
                + cacheDir() + ") or pass -Dkernel.image=PATH");
        HypercallSites sites = HypercallSites.find(PvhImage.parse(KernelImage.elf(Files.readAllBytes(vmlinux))));
        assertEquals(2, sites.sites().size(), sites::toString);
        assertEquals(Instruction.VMMCALL, sites.sites().get(0).instruction(), "xen_hypercall_amd first");
        assertEquals(Instruction.VMCALL, sites.sites().get(1).instruction());
        assertEquals(16, sites.sites().get(1).vaddr() - sites.sites().get(0).vaddr(), "adjacent functions");
        assertTrue(Long.compareUnsigned(sites.sites().get(0).vaddr(), KERNEL_VA) >= 0, "in the kernel's text");
    }

    static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isEmpty() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache"))
                .resolve("xen-evtchn/debian");
    }

    /** -Dkernel.image, else the newest vmlinux in linux.guest's cache, else null. */
    static Path cachedKernel() throws IOException {
        String given = System.getProperty("kernel.image");
        if (given != null) {
            return Path.of(given);
        }
        if (!Files.isDirectory(cacheDir())) {
            return null;
        }
        try (Stream<Path> dirs = Files.list(cacheDir())) {
            return dirs.map(d -> d.resolve("vmlinux")).filter(Files::isRegularFile)
                    .max((a, b) -> a.toString().compareTo(b.toString())).orElse(null);
        }
    }
}
