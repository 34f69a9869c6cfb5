package xen.block.disk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's scattering reads and gathering writes: each buffer in turn, at the offset asked,
 * whether the channel's position is there already (sequential I/O), elsewhere (a seek), or moved
 * by nothing (one buffer: a positional I/O).
 */
class DiskImageTest {
    @TempDir
    Path dir;

    private static ByteBuffer[] filled(int... values) {
        ByteBuffer[] buffers = new ByteBuffer[values.length];
        for (int i = 0; i < values.length; i++) {
            byte[] b = new byte[512];
            Arrays.fill(b, (byte) values[i]);
            buffers[i] = ByteBuffer.allocateDirect(512).put(b).flip();
        }
        return buffers;
    }

    @Test
    void writesAndReadsLandAtTheirOffsetsInAnyOrder() throws Exception {
        Path path = dir.resolve("d.img");
        Files.write(path, new byte[16 * 512]);
        byte[] expected = new byte[16 * 512];
        try (DiskImage disk = DiskImage.open(path, false)) {
            disk.write(2 * 512, filled(1, 2, 3), 2); // the third buffer is not asked for
            disk.write(4 * 512, filled(4, 5), 2); // where the last ended: no seek
            disk.write(0, filled(6, 7), 2); // back: a seek
            disk.write(9 * 512, filled(8), 1); // positional
            disk.write(2 * 512, filled(9, 10), 2); // not where the last vectored one ended
            int[] sectors = {6, 7, 9, 10, 4, 5, 0, 0, 0, 8};
            for (int s = 0; s < sectors.length; s++) {
                Arrays.fill(expected, s * 512, s * 512 + 512, (byte) sectors[s]);
            }
            assertArrayEquals(expected, Files.readAllBytes(path));

            ByteBuffer[] back = {ByteBuffer.allocateDirect(1024), ByteBuffer.allocateDirect(512)};
            disk.read(4 * 512, back, 2);
            assertEquals(4, back[0].get(0));
            assertEquals(5, back[0].get(512));
            assertEquals(0, back[1].get(0));
            ByteBuffer[] next = {ByteBuffer.allocateDirect(512), ByteBuffer.allocateDirect(512)};
            disk.read(7 * 512, next, 2); // where the last read ended: no seek
            assertEquals(0, next[0].get(0));
            assertEquals(0, next[1].get(0));
            ByteBuffer[] again = {ByteBuffer.allocateDirect(512), ByteBuffer.allocateDirect(512)};
            disk.read(9 * 512, again, 1);
            assertEquals(8, again[0].get(511));
            assertEquals(512, again[1].remaining(), "the second buffer was not asked for");
        }
    }

    @Test
    void aReadBeyondTheFileFailsWithWhereItEnds() throws Exception {
        Path path = dir.resolve("e.img");
        Files.write(path, new byte[4 * 512]);
        try (DiskImage disk = DiskImage.open(path, false)) {
            ByteBuffer[] two = {ByteBuffer.allocateDirect(1024), ByteBuffer.allocateDirect(1024)};
            IOException e = assertThrows(IOException.class, () -> disk.read(3 * 512, two, 2));
            assertEquals("the image ends at byte 2048", e.getMessage());
            IOException one = assertThrows(IOException.class, () -> disk.read(4 * 512, new ByteBuffer[] {ByteBuffer.allocate(512)}, 1));
            assertEquals("the image ends at byte 2048", one.getMessage());
        }
        try (DiskImage ro = DiskImage.open(path, true)) {
            assertThrows(IOException.class, () -> ro.write(0, filled(1), 1));
            assertArrayEquals(new byte[4 * 512], Files.readAllBytes(path));
        }
    }
}
