package linux.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link StockLinux#modules}: which form of xen-blkfront a kernel package has, on made-up packages. */
class StockLinuxModulesTest {
    static final String RELEASE = "6.1.0-50-cloud-amd64";

    private static StockLinux.Guest guest(Path pkg) throws IOException {
        Files.createDirectories(pkg.resolve("lib/modules/" + RELEASE + "/kernel/drivers/block"));
        Files.createDirectories(pkg.resolve("boot"));
        return new StockLinux.Guest(pkg.resolve("vmlinux"), pkg.resolve("initramfs"), RELEASE, pkg);
    }

    private static Path module(StockLinux.Guest g, String suffix, byte[] bytes) throws IOException {
        return Files.write(Path.of(g.modules().resolve(StockLinux.BLKFRONT) + suffix), bytes);
    }

    @Test
    void aPlainModuleGoesUnderLibModules(@TempDir Path pkg) throws IOException {
        StockLinux.Guest g = guest(pkg);
        module(g, "", new byte[] {0x7f, 'E', 'L', 'F'});
        List<Initramfs.Entry> modules = StockLinux.modules(g);
        assertEquals(1, modules.size());
        assertEquals("lib/modules/xen-blkfront.ko", modules.getFirst().path());
        assertArrayEquals(new byte[] {0x7f, 'E', 'L', 'F'}, modules.getFirst().data());
    }

    @Test
    void anXzModuleGoesAsItIsForInitToUnpack(@TempDir Path pkg) throws IOException {
        StockLinux.Guest g = guest(pkg);
        module(g, ".xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0});
        assertEquals(List.of("lib/modules/xen-blkfront.ko.xz"), StockLinux.modules(g).stream().map(Initramfs.Entry::path).toList());
    }

    @Test
    void aBuiltInFrontendNeedsNoModule(@TempDir Path pkg) throws IOException {
        StockLinux.Guest g = guest(pkg);
        Files.writeString(pkg.resolve("boot/config-" + RELEASE), "CONFIG_XEN_PVH=y\nCONFIG_XEN_BLKDEV_FRONTEND=y\n");
        assertEquals(List.of(), StockLinux.modules(g));
    }

    @Test
    void noUsableFrontendIsRefusedSayingWhy(@TempDir Path pkg) throws IOException {
        StockLinux.Guest g = guest(pkg);
        Path config = Files.writeString(pkg.resolve("boot/config-" + RELEASE), "CONFIG_XEN_BLKDEV_FRONTEND=m\n");
        Path ko = g.modules().resolve(StockLinux.BLKFRONT);
        assertEquals("no " + ko + "(.xz), and " + config + " does not say CONFIG_XEN_BLKDEV_FRONTEND=y",
                assertThrows(IOException.class, () -> StockLinux.modules(g)).getMessage());
        module(g, ".zst", new byte[] {1});
        assertEquals(ko + ".zst: a zstd-compressed module, which the initramfs's busybox cannot unpack (it takes .ko and .ko.xz)",
                assertThrows(IOException.class, () -> StockLinux.modules(g)).getMessage());
    }
}
