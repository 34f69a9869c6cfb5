package xen.block.backend;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import xen.block.disk.DiskImage;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.backend.GrantTables;

/**
 * One request checked and done, as Linux's xen-blkback checks it (dispatch_rw_block_io,
 * vbd_translate): the answer is a status, never an exception, whatever the frontend wrote. A read
 * or write needs 1..11 segments, each with first_sect &lt;= last_sect &lt;= 7, and its sectors inside
 * the disk; a write needs a writable disk; a grant the grant tables refuse fails the request
 * (a write then writes nothing: every segment is mapped before the file is touched). The data moves
 * as blkback moves it, without a bounce buffer: each segment's grant is mapped (read-only for a
 * disk write, writable for a disk read), and one gathering write or scattering read goes straight
 * between the file and the guest's pages; the mappings end before the request is answered. Flush and
 * write barrier may carry data (a write, then fsync); with none they are an fsync. Discard,
 * indirect and unknown operations are not offered and are answered EOPNOTSUPP.
 * <p>
 * {@link #refusal()} says why the last request was refused, for the log; it is a constant string,
 * so a frontend sending bad requests makes nothing but a counter move.
 */
final class RequestIo {
    static final String BAD_SEGMENT_COUNT = "nr_segments not 1..11";
    static final String BAD_SEGMENT = "a segment's first_sect > last_sect or last_sect > 7";
    static final String OUT_OF_RANGE = "sectors beyond the disk";
    static final String READ_ONLY = "a write to a read-only disk";
    static final String BAD_GRANT = "a segment's grant refused by the grant tables";
    static final String IO_ERROR = "the image file failed";
    static final String UNSUPPORTED = "an operation not offered";

    private final int domid;
    private final GrantTables grants;
    private final DiskImage disk;
    private final boolean barrier;
    private final boolean flush;
    /** The request's segments mapped, in order; reused, and cleared when the request is done. */
    private final GrantMapping[] mapped = new GrantMapping[Blkif.MAX_SEGMENTS_PER_REQUEST];
    /** Each mapped segment's sectors, as the file I/O's buffers. */
    private final ByteBuffer[] buffers = new ByteBuffer[Blkif.MAX_SEGMENTS_PER_REQUEST];
    private String refusal;

    /**
     * @param barrier whether write barriers are offered ({@code feature-barrier})
     * @param flush   whether cache flushes are offered ({@code feature-flush-cache})
     */
    RequestIo(int domid, GrantTables grants, DiskImage disk, boolean barrier, boolean flush) {
        this.domid = domid;
        this.grants = grants;
        this.disk = disk;
        this.barrier = barrier;
        this.flush = flush;
    }

    /** Why the last request answered with an error was refused. */
    String refusal() {
        return refusal;
    }

    /** Does {@code r} and returns its status (Blkif.RSP_*). */
    int serve(BlkifRequest r) {
        refusal = null;
        return switch (r.operation()) {
            case Blkif.OP_READ -> transfer(r, false);
            case Blkif.OP_WRITE -> disk.readOnly() ? refuse(READ_ONLY) : transfer(r, true);
            case Blkif.OP_WRITE_BARRIER -> barrier && !disk.readOnly() ? flushed(r, true) : unsupported();
            case Blkif.OP_FLUSH_DISKCACHE -> flush && !disk.readOnly() ? flushed(r, false) : unsupported();
            default -> unsupported();
        };
    }

    /**
     * A flush or barrier: with data, the write then an fsync (FUA); a barrier also fsyncs first,
     * so that every earlier write is stable before it (requests are done in ring order, so they
     * have completed).
     */
    private int flushed(BlkifRequest r, boolean before) {
        try {
            if (r.nrSegments() == 0) {
                disk.flush();
                return Blkif.RSP_OKAY;
            }
            if (before) {
                disk.flush();
            }
            int status = transfer(r, true);
            if (status == Blkif.RSP_OKAY) {
                disk.flush();
            }
            return status;
        } catch (IOException e) {
            return refuse(IO_ERROR);
        }
    }

    private int transfer(BlkifRequest r, boolean write) {
        int n = r.nrSegments();
        if (n < 1 || n > Blkif.MAX_SEGMENTS_PER_REQUEST) {
            return refuse(BAD_SEGMENT_COUNT);
        }
        long sectors = 0;
        for (int i = 0; i < n; i++) {
            int first = r.firstSect(i);
            int last = r.lastSect(i);
            if (first > last || last >= Blkif.SECTORS_PER_PAGE) {
                return refuse(BAD_SEGMENT);
            }
            sectors += last - first + 1;
        }
        long start = r.sectorNumber();
        if (start < 0 || start > disk.sectors() - sectors) {
            return refuse(OUT_OF_RANGE); // sector_number is a u64: negative here is beyond any disk
        }
        int mappedCount = 0;
        try {
            for (int i = 0; i < n; i++) {
                // A disk write reads the guest's pages, a disk read writes them (blkback's GNTMAP_readonly for writes).
                mapped[i] = grants.map(domid, r.gref(i), !write);
                mappedCount = i + 1;
                int first = r.firstSect(i);
                buffers[i] = mapped[i].page().asSlice((long) first << Blkif.SECTOR_SHIFT,
                        (long) (r.lastSect(i) - first + 1) << Blkif.SECTOR_SHIFT).asByteBuffer();
            }
            if (write) {
                disk.write(start << Blkif.SECTOR_SHIFT, buffers, n);
            } else {
                disk.read(start << Blkif.SECTOR_SHIFT, buffers, n);
            }
            return Blkif.RSP_OKAY;
        } catch (GrantException e) {
            return refuse(BAD_GRANT); // a write has not touched the file: every segment is mapped first
        } catch (IOException e) {
            return refuse(IO_ERROR);
        } finally {
            for (int i = mappedCount - 1; i >= 0; i--) {
                mapped[i].close();
            }
            Arrays.fill(mapped, 0, mappedCount, null);
            Arrays.fill(buffers, 0, mappedCount, null);
        }
    }

    private int unsupported() {
        refusal = UNSUPPORTED;
        return Blkif.RSP_EOPNOTSUPP;
    }

    private int refuse(String why) {
        refusal = why;
        return Blkif.RSP_ERROR;
    }
}
