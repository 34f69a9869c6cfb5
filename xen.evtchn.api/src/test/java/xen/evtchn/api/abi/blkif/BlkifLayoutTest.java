package xen.evtchn.api.abi.blkif;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * blkif.h and ring.h, x86-64: the numbers and layouts written out literally from the headers, and
 * the codecs checked byte by byte against hand-laid bytes.
 */
class BlkifLayoutTest {
    @Test
    void numbersAreBlkifHs() {
        assertAll(
                () -> assertEquals(0, Blkif.OP_READ),
                () -> assertEquals(1, Blkif.OP_WRITE),
                () -> assertEquals(2, Blkif.OP_WRITE_BARRIER),
                () -> assertEquals(3, Blkif.OP_FLUSH_DISKCACHE),
                () -> assertEquals(5, Blkif.OP_DISCARD),
                () -> assertEquals(6, Blkif.OP_INDIRECT),
                () -> assertEquals(0, Blkif.RSP_OKAY),
                () -> assertEquals(-1, Blkif.RSP_ERROR),
                () -> assertEquals(-2, Blkif.RSP_EOPNOTSUPP),
                () -> assertEquals(4, Blkif.VDISK_READONLY),
                () -> assertEquals(11, Blkif.MAX_SEGMENTS_PER_REQUEST),
                () -> assertEquals(8, Blkif.SECTORS_PER_PAGE),
                () -> assertEquals("x86_64-abi", Blkif.PROTOCOL_X86_64),
                () -> assertEquals("ring-ref3", Blkif.ringRef(3)));
    }

    @Test
    void theSharedRingIsRingHs() {
        assertAll(
                () -> assertEquals(0, BlkifRing.REQ_PROD),
                () -> assertEquals(4, BlkifRing.REQ_EVENT),
                () -> assertEquals(8, BlkifRing.RSP_PROD),
                () -> assertEquals(12, BlkifRing.RSP_EVENT),
                () -> assertEquals(64, BlkifRing.HEADER_SIZE, "4 indices, pvt[4], __pad[44]"),
                () -> assertEquals(112, BlkifRequest.SIZE),
                () -> assertEquals(16, BlkifResponse.SIZE),
                () -> assertEquals(112, BlkifRing.SLOT_SIZE, "the union of request and response"),
                // (4096 * 2^order - 64) / 112 rounded down to a power of two
                () -> assertEquals(32, BlkifRing.slots(0), "36 fit"),
                () -> assertEquals(64, BlkifRing.slots(1), "72 fit"),
                () -> assertEquals(128, BlkifRing.slots(2), "145 fit"),
                () -> assertEquals(256, BlkifRing.slots(3), "292 fit"),
                () -> assertEquals(512, BlkifRing.slots(4), "584 fit"),
                () -> assertEquals(64 + 31 * 112, BlkifRing.slotOffset(31, 32)),
                () -> assertEquals(64, BlkifRing.slotOffset(32, 32), "indices wrap by the slot mask"),
                () -> assertEquals(64 + 112, BlkifRing.slotOffset(0xFFFF_FFE1, 32), "a u32 index far along"));
        assertThrows(IllegalArgumentException.class, () -> BlkifRing.slots(-1));
    }

    @Test
    void aRequestDecodesFromTheBytesBlkifHLaysOut() {
        byte[] raw = HexFormat.of().parseHex(
                "01" + "02" + "00ca" + "deadbeef"          // op write, 2 segments, handle 0xca00, padding
                + "0807060504030201"                        // id 0x0102030405060708
                + "1000000000000000"                        // sector 16
                + "78563412" + "01" + "07" + "0000"         // seg 0: gref 0x12345678, sectors 1..7
                + "ffffffff" + "00" + "03" + "0000"         // seg 1: gref 0xffffffff, sectors 0..3
                + "00".repeat(9 * 8));
        MemorySegment at = MemorySegment.ofArray(new byte[200]);
        MemorySegment.copy(MemorySegment.ofArray(raw), 0, at, 40, raw.length);
        BlkifRequest r = BlkifRequest.read(at, 40);
        assertEquals(1, r.operation());
        assertEquals(2, r.nrSegments());
        assertEquals(0xca00, r.handle());
        assertEquals(0x0102030405060708L, r.id());
        assertEquals(16, r.sectorNumber());
        assertEquals(0x12345678, r.gref(0));
        assertEquals(1, r.firstSect(0));
        assertEquals(7, r.lastSect(0));
        assertEquals(-1, r.gref(1));
        assertEquals(3, r.lastSect(1));
        assertEquals(0, r.gref(10));

        byte[] back = new byte[112];
        BlkifRequest.rw(1, 0xca00, 0x0102030405060708L, 16, new BlkifRequest.Segment(0x12345678, 1, 7),
                new BlkifRequest.Segment(-1, 0, 3)).write(MemorySegment.ofArray(back), 0);
        byte[] expected = raw.clone();
        expected[4] = expected[5] = expected[6] = expected[7] = 0; // padding written as zero
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(back));
    }

    @Test
    void aResponseEncodesAsBlkifHLaysItOut() {
        byte[] out = new byte[16];
        java.util.Arrays.fill(out, (byte) 0x55);
        new BlkifResponse(0x1122334455667788L, 1, Blkif.RSP_EOPNOTSUPP).write(MemorySegment.ofArray(out), 0);
        assertEquals("8877665544332211" + "01" + "00" + "feff" + "00000000", HexFormat.of().formatHex(out));
        assertEquals(new BlkifResponse(0x1122334455667788L, 1, -2), BlkifResponse.read(MemorySegment.ofArray(out), 0));
    }
}
