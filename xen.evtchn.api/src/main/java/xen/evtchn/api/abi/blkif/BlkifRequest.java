package xen.evtchn.api.abi.blkif;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * struct blkif_request, native x86-64 layout, {@value #SIZE} bytes: 0 u8 operation, 1 u8
 * nr_segments, 2 u16 handle, (4 padding), 8 u64 id, 16 u64 sector_number, 24 eleven segments of
 * {@value #SEGMENT_SIZE} bytes {u32 gref, u8 first_sect, u8 last_sect, (2 padding)}. A discard
 * request (blkif_request_discard) reuses the first 24 bytes and has u64 nr_sectors at 24.
 * <p>
 * The values are the frontend's raw ones, unchecked: a backend validates them. {@link #gref},
 * {@link #firstSect} and {@link #lastSect} give all {@value Blkif#MAX_SEGMENTS_PER_REQUEST}
 * slots whatever nr_segments says.
 *
 * @param operation    u8
 * @param nrSegments   u8 (for discard, the flag byte)
 * @param handle       u16, the vdev
 * @param id           echoed in the response
 * @param sectorNumber first 512-byte sector
 * @param segments     the raw 88 segment bytes (for a discard, nr_sectors in the first 8)
 */
public record BlkifRequest(int operation, int nrSegments, int handle, long id, long sectorNumber, byte[] segments) {
    public static final int SIZE = 112;
    public static final int OPERATION = 0;
    public static final int NR_SEGMENTS = 1;
    public static final int HANDLE = 2;
    public static final int ID = 8;
    public static final int SECTOR_NUMBER = 16;
    public static final int SEG = 24;
    /** blkif_request_discard.nr_sectors. */
    public static final int NR_SECTORS = 24;
    public static final int SEGMENT_SIZE = 8;
    public static final int SEG_GREF = 0;
    public static final int SEG_FIRST_SECT = 4;
    public static final int SEG_LAST_SECT = 5;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public BlkifRequest {
        if (segments.length != Blkif.MAX_SEGMENTS_PER_REQUEST * SEGMENT_SIZE) {
            throw new IllegalArgumentException("a request has " + Blkif.MAX_SEGMENTS_PER_REQUEST * SEGMENT_SIZE + " segment bytes");
        }
    }

    /** Decodes the {@value #SIZE} bytes at {@code at} (a copy the frontend can no longer change). */
    public static BlkifRequest read(MemorySegment from, long at) {
        byte[] segs = new byte[Blkif.MAX_SEGMENTS_PER_REQUEST * SEGMENT_SIZE];
        MemorySegment.copy(from, ValueLayout.JAVA_BYTE, at + SEG, segs, 0, segs.length);
        return new BlkifRequest(Byte.toUnsignedInt(from.get(ValueLayout.JAVA_BYTE, at + OPERATION)),
                Byte.toUnsignedInt(from.get(ValueLayout.JAVA_BYTE, at + NR_SEGMENTS)),
                Short.toUnsignedInt(from.get(SHORT, at + HANDLE)),
                from.get(LONG, at + ID), from.get(LONG, at + SECTOR_NUMBER), segs);
    }

    /** A read or write request over {@code segments} (each {gref, first_sect, last_sect}). */
    public static BlkifRequest rw(int operation, int handle, long id, long sectorNumber, Segment... segments) {
        if (segments.length > Blkif.MAX_SEGMENTS_PER_REQUEST) {
            throw new IllegalArgumentException("at most " + Blkif.MAX_SEGMENTS_PER_REQUEST + " segments: got " + segments.length);
        }
        byte[] segs = new byte[Blkif.MAX_SEGMENTS_PER_REQUEST * SEGMENT_SIZE];
        MemorySegment s = MemorySegment.ofArray(segs);
        for (int i = 0; i < segments.length; i++) {
            s.set(INT, i * SEGMENT_SIZE + SEG_GREF, segments[i].gref());
            s.set(ValueLayout.JAVA_BYTE, i * SEGMENT_SIZE + SEG_FIRST_SECT, (byte) segments[i].firstSect());
            s.set(ValueLayout.JAVA_BYTE, i * SEGMENT_SIZE + SEG_LAST_SECT, (byte) segments[i].lastSect());
        }
        return new BlkifRequest(operation, segments.length, handle, id, sectorNumber, segs);
    }

    /** Encodes this request at {@code at} (a frontend's side). */
    public void write(MemorySegment to, long at) {
        to.set(ValueLayout.JAVA_BYTE, at + OPERATION, (byte) operation);
        to.set(ValueLayout.JAVA_BYTE, at + NR_SEGMENTS, (byte) nrSegments);
        to.set(SHORT, at + HANDLE, (short) handle);
        to.set(INT, at + 4, 0);
        to.set(LONG, at + ID, id);
        to.set(LONG, at + SECTOR_NUMBER, sectorNumber);
        MemorySegment.copy(segments, 0, to, ValueLayout.JAVA_BYTE, at + SEG, segments.length);
    }

    /** Segment {@code i}'s grant reference (u32 bits). */
    public int gref(int i) {
        return MemorySegment.ofArray(segments).get(INT, (long) i * SEGMENT_SIZE + SEG_GREF);
    }

    public int firstSect(int i) {
        return Byte.toUnsignedInt(segments[i * SEGMENT_SIZE + SEG_FIRST_SECT]);
    }

    public int lastSect(int i) {
        return Byte.toUnsignedInt(segments[i * SEGMENT_SIZE + SEG_LAST_SECT]);
    }

    /** A discard request's nr_sectors. */
    public long nrSectors() {
        return MemorySegment.ofArray(segments).get(LONG, 0);
    }

    /** One struct blkif_request_segment. */
    public record Segment(int gref, int firstSect, int lastSect) {
    }
}
