package xen.block.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xen.block.disk.DiskImage;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifRequest.Segment;

/**
 * Every check a request goes through, on a 64-sector image and grants of heap pages: what a
 * correct frontend sends is done, everything else is refused with the status blkback gives and
 * leaves the image and the pages as they were.
 */
class RequestIoTest {
    private static final int DOMID = 3;
    private static final long SECTORS = 64;

    @TempDir
    Path dir;
    private final PageGrants grants = new PageGrants(DOMID);
    private DiskImage disk;

    @AfterEach
    void close() {
        assertEquals(0, grants.open, "every mapping ended with its request");
        if (disk != null) {
            disk.close();
        }
    }

    private RequestIo io(boolean readOnly) throws Exception {
        Path image = dir.resolve("disk.img");
        byte[] bytes = new byte[(int) SECTORS * 512];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i / 512); // each sector holds its number
        }
        Files.write(image, bytes);
        disk = DiskImage.open(image, readOnly);
        return new RequestIo(DOMID, grants, disk, true, true);
    }

    private byte[] image() throws IOException {
        return Files.readAllBytes(dir.resolve("disk.img"));
    }

    private static BlkifRequest rw(int op, long sector, Segment... segs) {
        return BlkifRequest.rw(op, 0, 77, sector, segs);
    }

    @Test
    void aReadGathersSectorsIntoEachSegmentsPart() throws Exception {
        RequestIo io = io(false);
        byte[] p1 = grants.grant(8, false);
        byte[] p2 = grants.grant(9, false);
        // sectors 10..12 into p1's sectors 5..7, then 13..14 into p2's 0..1
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_READ, 10, new Segment(8, 5, 7), new Segment(9, 0, 1))));
        assertEquals(0, p1[5 * 512 - 1], "before first_sect untouched");
        assertEquals(10, p1[5 * 512]);
        assertEquals(12, p1[4095]);
        assertEquals(13, p2[0]);
        assertEquals(14, p2[1023]);
        assertEquals(0, p2[1024], "after last_sect untouched");
        assertNull(io.refusal());
    }

    @Test
    void aWriteScattersEachSegmentToItsSectors() throws Exception {
        RequestIo io = io(false);
        byte[] p = grants.grant(8, false);
        Arrays.fill(p, 2 * 512, 4 * 512, (byte) 0xAB);
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_WRITE, 63, new Segment(8, 2, 2))));
        byte[] after = image();
        assertEquals((byte) 0xAB, after[63 * 512]);
        assertEquals((byte) 0xAB, after[64 * 512 - 1]);
        assertEquals(62, after[63 * 512 - 1], "sector 62 untouched");
    }

    @Test
    void badSegmentsAreRefusedBeforeAnyPageOrSectorIsTouched() throws Exception {
        RequestIo io = io(false);
        grants.grant(8, false);
        byte[] before = image();
        Segment ok = new Segment(8, 0, 7);
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 0)), "no segment");
        assertEquals(RequestIo.BAD_SEGMENT_COUNT, io.refusal());
        assertEquals(Blkif.RSP_ERROR, io.serve(new BlkifRequest(Blkif.OP_READ, 12, 0, 1, 0, new byte[88])), "12 segments");
        assertEquals(RequestIo.BAD_SEGMENT_COUNT, io.refusal());
        assertEquals(Blkif.RSP_ERROR, io.serve(new BlkifRequest(Blkif.OP_READ, 255, 0, 1, 0, new byte[88])), "255 segments");
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 0, ok, new Segment(8, 4, 3))), "first > last");
        assertEquals(RequestIo.BAD_SEGMENT, io.refusal());
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 0, new Segment(8, 0, 8))), "last_sect 8 leaves the page");
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 0, new Segment(8, 255, 255))));
        assertEquals(RequestIo.BAD_SEGMENT, io.refusal());
        assertEquals(0, grants.uses, "no page copied");
        assertArrayEquals(before, image());
    }

    @Test
    void sectorsBeyondTheDiskAreRefused() throws Exception {
        RequestIo io = io(false);
        grants.grant(8, false);
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_READ, 56, new Segment(8, 0, 7))), "the last 8 sectors");
        int copies = grants.uses;
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 57, new Segment(8, 0, 7))), "one sector beyond");
        assertEquals(RequestIo.OUT_OF_RANGE, io.refusal());
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 64, new Segment(8, 0, 0))));
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, -1, new Segment(8, 0, 0))), "sector 2^64 - 1");
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, Long.MAX_VALUE - 2, new Segment(8, 0, 7))), "wraps if added");
        assertEquals(RequestIo.OUT_OF_RANGE, io.refusal());
        assertEquals(copies, grants.uses);
    }

    @Test
    void aForgedGrantFailsTheRequestAndAWriteWritesNothing() throws Exception {
        RequestIo io = io(false);
        byte[] p = grants.grant(8, false);
        Arrays.fill(p, (byte) 0x11);
        byte[] before = image();
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 0, new Segment(8, 0, 7), new Segment(999, 0, 7))));
        assertEquals(RequestIo.BAD_GRANT, io.refusal());
        assertArrayEquals(before, image(), "the good first segment was not written either");
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 0, new Segment(-1, 0, 7))), "ref 0xffffffff");
        grants.grant(9, true);
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 0, new Segment(9, 0, 7))), "a read into a read-only grant");
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_WRITE, 0, new Segment(9, 0, 7))), "a write from one is fine");
    }

    /** Eleven segments, each with its own first_sect..last_sect: 1 to 3 sectors, at offsets 0 to 5 of the page. */
    private static Segment[] elevenSegments(int firstRef) {
        Segment[] segs = new Segment[Blkif.MAX_SEGMENTS_PER_REQUEST];
        for (int i = 0; i < segs.length; i++) {
            int first = (i * 3) % 6;
            segs[i] = new Segment(firstRef + i, first, first + i % 3);
        }
        return segs;
    }

    @Test
    void aScatteringReadFillsOnlyEachSegmentsSectorsInOrder() throws Exception {
        RequestIo io = io(false);
        Segment[] segs = elevenSegments(20);
        byte[][] pages = new byte[segs.length][];
        for (int i = 0; i < segs.length; i++) {
            pages[i] = grants.grant(20 + i, false);
            Arrays.fill(pages[i], (byte) 0xEE);
        }
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_READ, 3, segs)));
        int sector = 3;
        for (int i = 0; i < segs.length; i++) {
            for (int s = 0; s < 8; s++) {
                boolean inside = s >= segs[i].firstSect() && s <= segs[i].lastSect();
                byte expected = inside ? (byte) sector++ : (byte) 0xEE;
                assertEquals(expected, pages[i][s * 512], "segment " + i + ", page sector " + s + ", first byte");
                assertEquals(expected, pages[i][s * 512 + 511], "segment " + i + ", page sector " + s + ", last byte");
            }
        }
        assertEquals(3 + 21, sector, "21 sectors in all");
    }

    @Test
    void aGatheringWriteTakesEachSegmentsSectorsInOrder() throws Exception {
        RequestIo io = io(false);
        Segment[] segs = elevenSegments(20);
        for (int i = 0; i < segs.length; i++) {
            byte[] page = grants.grant(20 + i, true); // a read-only grant is enough for a disk write
            for (int s = 0; s < 8; s++) {
                Arrays.fill(page, s * 512, s * 512 + 512, (byte) (100 + i * 8 + s));
            }
        }
        byte[] expected = image();
        int sector = 30;
        for (int i = 0; i < segs.length; i++) {
            for (int s = segs[i].firstSect(); s <= segs[i].lastSect(); s++, sector++) {
                Arrays.fill(expected, sector * 512, sector * 512 + 512, (byte) (100 + i * 8 + s));
            }
        }
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_WRITE, 30, segs)));
        assertArrayEquals(expected, image());
    }

    @Test
    void aRevokedFifthGrantFailsTheWholeRequestAndAWriteWritesNothing() throws Exception {
        RequestIo io = io(false);
        Segment[] segs = elevenSegments(20);
        byte[][] pages = new byte[segs.length][];
        for (int i = 0; i < segs.length; i++) {
            pages[i] = grants.grant(20 + i, false);
            Arrays.fill(pages[i], (byte) 0x5A);
        }
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_READ, 0, segs)), "all eleven granted");
        grants.revoke(24);
        for (byte[] page : pages) {
            Arrays.fill(page, (byte) 0x5A);
        }
        byte[] before = image();
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 0, segs)));
        assertEquals(RequestIo.BAD_GRANT, io.refusal());
        assertArrayEquals(before, image(), "not even the four segments before the revoked one");
        assertEquals(0, grants.open, "the four mapped ones were unmapped");
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_READ, 0, segs)));
        for (int i = 0; i < 4; i++) {
            assertEquals(0x5A, pages[i][segs[i].firstSect() * 512], "a read refused reads into no page");
        }
    }

    @Test
    void aReadOnlyDiskAnswersWritesWithAnErrorAndOffersNoFlush() throws Exception {
        RequestIo io = io(true);
        grants.grant(8, false);
        byte[] before = image();
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_WRITE, 0, new Segment(8, 0, 7))));
        assertEquals(RequestIo.READ_ONLY, io.refusal());
        assertEquals(0, grants.uses);
        assertEquals(Blkif.RSP_EOPNOTSUPP, io.serve(rw(Blkif.OP_FLUSH_DISKCACHE, 0)));
        assertEquals(Blkif.RSP_EOPNOTSUPP, io.serve(rw(Blkif.OP_WRITE_BARRIER, 0, new Segment(8, 0, 7))));
        assertArrayEquals(before, image());
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_READ, 0, new Segment(8, 0, 7))));
    }

    @Test
    void flushAndBarrierWithAndWithoutData() throws Exception {
        RequestIo io = io(false);
        byte[] p = grants.grant(8, false);
        Arrays.fill(p, (byte) 0x5A);
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_FLUSH_DISKCACHE, 0)), "a bare flush");
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_WRITE_BARRIER, 0)), "a bare barrier");
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_FLUSH_DISKCACHE, 4, new Segment(8, 0, 0))), "a flush with data writes it");
        assertEquals(Blkif.RSP_OKAY, io.serve(rw(Blkif.OP_WRITE_BARRIER, 6, new Segment(8, 0, 0))));
        byte[] after = image();
        assertEquals(0x5A, after[4 * 512]);
        assertEquals(0x5A, after[6 * 512]);
        assertEquals(5, after[5 * 512]);
        assertEquals(Blkif.RSP_ERROR, io.serve(rw(Blkif.OP_FLUSH_DISKCACHE, 64, new Segment(8, 0, 0))), "its data is checked");
    }

    @Test
    void operationsNotOfferedAreAnsweredEopnotsupp() throws Exception {
        RequestIo io = io(false);
        for (int op : new int[] {Blkif.OP_DISCARD, Blkif.OP_INDIRECT, Blkif.OP_RESERVED_1, 7, 255}) {
            assertEquals(Blkif.RSP_EOPNOTSUPP, io.serve(new BlkifRequest(op, 1, 0, 1, 0, new byte[88])), Blkif.opName(op));
            assertEquals(RequestIo.UNSUPPORTED, io.refusal());
        }
        disk.close();
        disk = DiskImage.open(dir.resolve("disk.img"), false);
        RequestIo none = new RequestIo(DOMID, grants, disk, false, false);
        assertEquals(Blkif.RSP_EOPNOTSUPP, none.serve(rw(Blkif.OP_FLUSH_DISKCACHE, 0)), "flush switched off");
        assertEquals(Blkif.RSP_EOPNOTSUPP, none.serve(rw(Blkif.OP_WRITE_BARRIER, 0)), "barrier switched off");
    }
}
