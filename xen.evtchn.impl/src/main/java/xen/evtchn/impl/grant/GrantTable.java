package xen.evtchn.impl.grant;

import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.GrantEntry.GTF_PERMIT_ACCESS;
import static xen.evtchn.api.abi.GrantEntry.GTF_READING;
import static xen.evtchn.api.abi.GrantEntry.GTF_READONLY;
import static xen.evtchn.api.abi.GrantEntry.GTF_SUB_PAGE;
import static xen.evtchn.api.abi.GrantEntry.GTF_TYPE_MASK;
import static xen.evtchn.api.abi.GrantEntry.GTF_WRITING;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.host.SaveStreamException;

/**
 * The grant table of one guest domain, version 1 only (Xen's struct grant_table). Its frames are
 * pages of the guest's own memory, where the guest put them with
 * XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gpfn), in RAM or in an extra page the
 * memory puts in a hole outside it; a frame the guest has not (or no longer) mapped keeps its
 * entries here, all zero until it was mapped once, as Xen keeps the frames it owns. The only domain that maps and copies grants is the host's backends,
 * {@link DomId#HOST}; while one uses an entry it is pinned (Xen's active entry): the frame is the
 * one the entry named when the pin began, and GTF_reading/GTF_writing stay set in the entry.
 * Every method holds the table's monitor; the entries' flags-and-domid words change by
 * compare-and-swap only, because the guest writes them at the same time.
 */
public final class GrantTable {
    /** The most frames a domain may have: Xen's default gnttab_max_frames. */
    public static final int MAX_FRAMES = 64;
    /** Frames a new table has: Xen's INITIAL_NR_GRANT_FRAMES on x86. */
    public static final int INITIAL_FRAMES = 1;
    /** The only version this table has. */
    public static final int VERSION = 1;
    /** A frame that is not in guest memory: Xen's INVALID_GFN as setup_table reports it. */
    public static final long UNMAPPED = -1;
    /** Tries of the compare-and-swap on an entry the guest keeps changing, as Xen's _set_status_v1. */
    private static final int CAS_TRIES = 5;
    /** The flags-and-domid word, in native (x86: little-endian) order, atomically. */
    private static final VarHandle WORD = ValueLayout.JAVA_INT.varHandle();

    private final GuestMemory memory;
    private int nrFrames = INITIAL_FRAMES;
    /** The guest frame each table frame is mapped at, or {@link #UNMAPPED}. */
    private final long[] gpfns = new long[MAX_FRAMES];
    /** Whether a frame's gpfn is an extra page outside RAM that this table mapped (and unmaps when it leaves). */
    private final boolean[] onExtraPage = new boolean[MAX_FRAMES];
    /** The entries of a frame taken out of guest memory (another frame mapped over it); null: all zero. */
    private final MemorySegment[] parked = new MemorySegment[MAX_FRAMES];
    /** Entries in use by a backend, by reference. */
    private final Map<Integer, Pin> pins = new HashMap<>();

    public GrantTable(GuestMemory memory) {
        this.memory = Objects.requireNonNull(memory, "memory");
        Arrays.fill(gpfns, UNMAPPED);
    }

    /** A backend's hold on one entry: how many maps and copies read and write it, and the frame. */
    private static final class Pin {
        final long gfn;
        int readers;
        int writers;

        Pin(long gfn) {
            this.gfn = gfn;
        }
    }

    public synchronized int nrFrames() {
        return nrFrames;
    }

    public int maxFrames() {
        return MAX_FRAMES;
    }

    public int version() {
        return VERSION;
    }

    /**
     * GNTTABOP_set_version: 1 is the version in force (0); 2 answers -ENOSYS, Xen's answer for a
     * domain whose maximum version is 1; anything else -EINVAL.
     */
    public int setVersion(int version) {
        return switch (version) {
            case 1 -> 0;
            case 2 -> -ENOSYS;
            default -> -EINVAL;
        };
    }

    /** Grows the table to {@code frames} frames (it never shrinks); false beyond {@link #MAX_FRAMES}. */
    public synchronized boolean grow(int frames) {
        if (frames < 0 || frames > MAX_FRAMES) {
            return false;
        }
        nrFrames = Math.max(nrFrames, frames);
        return true;
    }

    /** The guest frame table frame {@code index} is mapped at, or {@link #UNMAPPED}. */
    public synchronized long gpfn(int index) {
        Objects.checkIndex(index, nrFrames);
        return gpfns[index];
    }

    /**
     * XENMAPSPACE_grant_table: table frame {@code index} moves to guest frame {@code gpfn} with its
     * entries, the table growing to hold it as Xen's gnttab_get_shared_frame_mfn does. A gpfn
     * outside guest RAM (a hole, where Linux's unpopulated-alloc puts its grant frames) gets an
     * extra page of host memory ({@link GuestMemory#mapExtraPage}), as Xen puts a frame of its own
     * there. A table frame that was mapped there before leaves guest memory with its entries (they
     * come back when it is mapped again); the frame it leaves keeps a stale copy if it is RAM (Xen
     * would leave a hole there) and is a hole again if it was an extra page. Answers -EINVAL for
     * an index at or beyond {@link #MAX_FRAMES} or a gpfn the memory cannot back.
     */
    public synchronized int mapFrame(long index, long gpfn) {
        if (index < 0 || index >= MAX_FRAMES) {
            return -EINVAL;
        }
        int i = (int) index;
        if (gpfns[i] == gpfn) {
            return 0;
        }
        MemorySegment page = memory.page(gpfn);
        boolean extra = false;
        if (page == null) {
            page = memory.mapExtraPage(gpfn);
            if (page == null) {
                return -EINVAL;
            }
            extra = true;
        }
        for (int other = 0; other < nrFrames; other++) {
            if (gpfns[other] == gpfn) {
                parked[other] = MemorySegment.ofArray(new long[GuestMemory.PAGE_SIZE / Long.BYTES]).copyFrom(page);
                gpfns[other] = UNMAPPED;
                extra |= onExtraPage[other];
                onExtraPage[other] = false;
            }
        }
        MemorySegment from = frame(i);
        if (from == null) {
            page.fill((byte) 0);
        } else {
            page.copyFrom(from);
        }
        long left = gpfns[i];
        boolean leftExtra = onExtraPage[i];
        gpfns[i] = gpfn;
        onExtraPage[i] = extra;
        parked[i] = null;
        nrFrames = Math.max(nrFrames, i + 1);
        if (leftExtra) {
            memory.unmapExtraPage(left);
        }
        return 0;
    }

    /** Whether table frame {@code index} lives in an extra page this table had mapped outside RAM. */
    public synchronized boolean onExtraPage(int index) {
        Objects.checkIndex(index, nrFrames);
        return onExtraPage[index];
    }

    /**
     * The table as a save takes it, or null if it is as a new domain's (one frame, never mapped:
     * a restore without it gives the same). Pause the guest's vCPUs first.
     */
    public synchronized GrantTableImage save() {
        boolean fresh = nrFrames == INITIAL_FRAMES;
        long[] at = Arrays.copyOf(gpfns, nrFrames);
        byte[][] contents = new byte[nrFrames][];
        for (int i = 0; i < nrFrames; i++) {
            MemorySegment hostMemory = onExtraPage[i] ? memory.page(gpfns[i]) : gpfns[i] == UNMAPPED ? parked[i] : null;
            if (hostMemory != null) {
                contents[i] = hostMemory.toArray(ValueLayout.JAVA_BYTE);
            }
            fresh &= gpfns[i] == UNMAPPED && parked[i] == null;
        }
        if (fresh) {
            return null;
        }
        int[] pinned = pins.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        return new GrantTableImage(VERSION, at, contents, pinned);
    }

    /**
     * Makes this new table the saved one: the frames in RAM are where the guest's memory (copied
     * by the VMM) has them; a frame on an extra page gets one there again, with its saved
     * contents; a frame out of guest memory keeps its saved entries. The pins ended with the old
     * host: their GTF_reading/GTF_writing are cleared (the backends map again). Throws
     * SaveStreamException, with no extra page left mapped, for a frame the memory cannot back.
     */
    public synchronized void restore(GrantTableImage image) {
        if (image.version() != VERSION) {
            throw new SaveStreamException("the saved grant table has version " + image.version() + "; this host has version "
                    + VERSION + " only");
        }
        try {
            for (int i = 0; i < image.nrFrames(); i++) {
                long gpfn = image.gpfns()[i];
                byte[] contents = image.contents()[i];
                if (gpfn == UNMAPPED) {
                    parked[i] = contents == null ? null : MemorySegment.ofArray(contents.clone());
                    continue;
                }
                MemorySegment page = contents == null ? memory.page(gpfn) : memory.mapExtraPage(gpfn);
                if (page == null) {
                    throw new SaveStreamException("the saved grant table frame " + i + " at guest frame 0x"
                            + Long.toHexString(gpfn) + (contents == null ? " is outside the backend's guest RAM ("
                            + memory.size() + " bytes)" : ", an extra page, is one the backend cannot map"));
                }
                if (contents != null) {
                    onExtraPage[i] = true;
                    page.copyFrom(MemorySegment.ofArray(contents));
                }
                gpfns[i] = gpfn;
            }
        } catch (RuntimeException e) {
            unmapExtraPages();
            throw e;
        }
        nrFrames = image.nrFrames();
        for (int ref : image.pinnedRefs()) {
            if (ref < entries()) {
                clearFlags(ref, GTF_READING | GTF_WRITING);
            }
        }
    }

    /** Unmaps every extra page this table mapped: the domain is going (a refused restore). */
    public synchronized void unmapExtraPages() {
        for (int i = 0; i < MAX_FRAMES; i++) {
            if (onExtraPage[i]) {
                memory.unmapExtraPage(gpfns[i]);
                onExtraPage[i] = false;
                gpfns[i] = UNMAPPED;
            }
        }
    }

    /** The memory that holds table frame {@code index} now; null for a frame of zeros never mapped. */
    private MemorySegment frame(int index) {
        return gpfns[index] == UNMAPPED ? parked[index] : memory.page(gpfns[index]);
    }

    /** The number of entries: references below it are in range. */
    private int entries() {
        return nrFrames * GrantEntry.PER_FRAME;
    }

    /**
     * Pins entry {@code ref} for the host's backends, for a map ({@code forMap}) or a copy, for
     * writing or only reading, as Xen's map_grant_ref and acquire_grant_for_copy do: a reference
     * out of range is {@link GrantStatus#BAD_GNTREF}; the first pin needs a GTF_permit_access
     * entry for domain 0 (for a map, not GTF_sub_page), else {@link GrantStatus#GENERAL_ERROR};
     * writing needs an entry without GTF_readonly, else the same; a granted frame outside guest
     * RAM is {@link GrantStatus#BAD_PAGE}. Returns the granted guest frame (not negative), or the
     * negative status with the entry as it was.
     */
    public synchronized long pin(int ref, boolean write, boolean forMap) {
        if (Integer.compareUnsigned(ref, entries()) >= 0) {
            return GrantStatus.BAD_GNTREF;
        }
        Pin pin = pins.get(ref);
        if (pin == null || write && pin.writers == 0) {
            int rc = markInUse(ref, pin != null, write, forMap);
            if (rc != GrantStatus.OKAY) {
                return rc;
            }
        }
        if (pin == null) {
            long gfn = Integer.toUnsignedLong(entry(ref).get(ValueLayout.JAVA_INT, entryOffset(ref) + GrantEntry.FRAME));
            if (memory.page(gfn) == null) {
                clearFlags(ref, GTF_READING | (write ? GTF_WRITING : 0));
                return GrantStatus.BAD_PAGE;
            }
            pin = new Pin(gfn);
            pins.put(ref, pin);
        }
        if (write) {
            pin.writers++;
        } else {
            pin.readers++;
        }
        return pin.gfn;
    }

    /**
     * Ends one pin of {@link #pin}: the last writer clears GTF_writing, the last user GTF_reading,
     * as Xen's unmap does. IllegalArgumentException if there is no such pin (a caller's bug).
     */
    public synchronized void unpin(int ref, boolean write) {
        Pin pin = pins.get(ref);
        if (pin == null || (write ? pin.writers : pin.readers) == 0) {
            throw new IllegalArgumentException("grant " + ref + " is not pinned for " + (write ? "writing" : "reading"));
        }
        int clear = 0;
        if (write) {
            pin.writers--;
            clear = pin.writers == 0 ? GTF_WRITING : 0;
        } else {
            pin.readers--;
        }
        if (pin.readers + pin.writers == 0) {
            clear |= GTF_READING;
            pins.remove(ref);
        }
        if (clear != 0) {
            clearFlags(ref, clear);
        }
    }

    /** How many maps and copies hold entry {@code ref} now. */
    public synchronized int pinCount(int ref) {
        Pin pin = pins.get(ref);
        return pin == null ? 0 : pin.readers + pin.writers;
    }

    /** Xen's _set_status_v1: checks the entry (unless pinned) and sets GTF_reading, and GTF_writing. */
    private int markInUse(int ref, boolean pinned, boolean write, boolean forMap) {
        MemorySegment f = entry(ref);
        if (f == null) {
            return GrantStatus.GENERAL_ERROR; // a frame of zeros: GTF_invalid
        }
        long at = entryOffset(ref);
        int typeMask = forMap ? GTF_TYPE_MASK | GTF_SUB_PAGE : GTF_TYPE_MASK;
        int word = (int) WORD.getVolatile(f, at);
        for (int tries = 1; ; tries++) {
            int flags = GrantEntry.flags(word);
            if (!pinned && ((flags & typeMask) != GTF_PERMIT_ACCESS || GrantEntry.domid(word) != DomId.HOST)) {
                return GrantStatus.GENERAL_ERROR;
            }
            if (write && (flags & GTF_READONLY) != 0) {
                return GrantStatus.GENERAL_ERROR;
            }
            int next = GrantEntry.word(flags | GTF_READING | (write ? GTF_WRITING : 0), GrantEntry.domid(word));
            int seen = (int) WORD.compareAndExchange(f, at, word, next);
            if (seen == word) {
                return GrantStatus.OKAY;
            }
            if (tries == CAS_TRIES) {
                return GrantStatus.GENERAL_ERROR; // the guest keeps changing it
            }
            word = seen;
        }
    }

    /** Clears {@code flags} in the entry's flags, atomically, leaving the rest (the guest's) alone. */
    private void clearFlags(int ref, int flags) {
        MemorySegment f = entry(ref);
        if (f != null) {
            WORD.getAndBitwiseAnd(f, entryOffset(ref), ~flags);
        }
    }

    /** The table frame that holds entry {@code ref} (in range), or null for a frame of zeros. */
    private MemorySegment entry(int ref) {
        return frame(ref / GrantEntry.PER_FRAME);
    }

    private static long entryOffset(int ref) {
        return (long) (ref % GrantEntry.PER_FRAME) * GrantEntry.SIZE;
    }
}
