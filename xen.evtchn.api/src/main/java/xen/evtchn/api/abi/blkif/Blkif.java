package xen.evtchn.api.abi.blkif;

/**
 * The numbers of public/io/blkif.h: request operations, response statuses, the {@code info}
 * bits, the segment limits and the XenStore nodes both ends read. Every sector number on the
 * ring and in {@code sectors} counts 512-byte units, whatever {@code sector-size} says.
 */
public final class Blkif {
    public static final int OP_READ = 0;
    public static final int OP_WRITE = 1;
    /** Writes before it complete before it, writes after it start after it ({@code feature-barrier}). */
    public static final int OP_WRITE_BARRIER = 2;
    /** Commit the device's volatile cache to stable storage ({@code feature-flush-cache}). */
    public static final int OP_FLUSH_DISKCACHE = 3;
    /** Reserved for a SLES device-specific packet. */
    public static final int OP_RESERVED_1 = 4;
    /** struct blkif_request_discard: nr_sectors from sector_number ({@code feature-discard}). */
    public static final int OP_DISCARD = 5;
    /** struct blkif_request_indirect: segments in granted pages ({@code feature-max-indirect-segments}). */
    public static final int OP_INDIRECT = 6;

    public static final int RSP_OKAY = 0;
    /** Failed for some unspecified reason (Linux's -EIO). */
    public static final int RSP_ERROR = -1;
    /** The operation is not supported. */
    public static final int RSP_EOPNOTSUPP = -2;

    /** {@code info} bits. */
    public static final int VDISK_CDROM = 0x1;
    public static final int VDISK_REMOVABLE = 0x2;
    public static final int VDISK_READONLY = 0x4;

    /** BLKIF_MAX_SEGMENTS_PER_REQUEST: segments in a direct request. */
    public static final int MAX_SEGMENTS_PER_REQUEST = 11;
    /** The unit of sector_number, first_sect, last_sect and {@code sectors}. */
    public static final int SECTOR_SIZE = 512;
    public static final int SECTOR_SHIFT = 9;
    /** Sectors in a 4 KiB page: a segment's last_sect is at most this minus one. */
    public static final int SECTORS_PER_PAGE = 4096 / SECTOR_SIZE;
    /** The largest ring Linux's xenbus allocates: XENBUS_MAX_RING_GRANT_ORDER (16 pages). */
    public static final int MAX_RING_PAGE_ORDER = 4;

    /** {@code protocol} of the native 64-bit layout (XEN_IO_PROTO_ABI_X86_64), also its default. */
    public static final String PROTOCOL_X86_64 = "x86_64-abi";
    /** {@code protocol} of the 32-bit layout (XEN_IO_PROTO_ABI_X86_32): id packed at offset 4. */
    public static final String PROTOCOL_X86_32 = "x86_32-abi";

    // Backend nodes: the toolstack's, then the backend's own.
    public static final String NODE_PARAMS = "params";
    public static final String NODE_MODE = "mode";
    public static final String NODE_SECTORS = "sectors";
    public static final String NODE_SECTOR_SIZE = "sector-size";
    public static final String NODE_PHYSICAL_SECTOR_SIZE = "physical-sector-size";
    public static final String NODE_INFO = "info";
    public static final String NODE_FEATURE_FLUSH_CACHE = "feature-flush-cache";
    public static final String NODE_FEATURE_BARRIER = "feature-barrier";
    public static final String NODE_FEATURE_DISCARD = "feature-discard";
    public static final String NODE_FEATURE_PERSISTENT = "feature-persistent";
    public static final String NODE_FEATURE_MAX_INDIRECT_SEGMENTS = "feature-max-indirect-segments";
    public static final String NODE_MAX_RING_PAGE_ORDER = "max-ring-page-order";
    // Frontend nodes.
    public static final String NODE_RING_REF = "ring-ref";
    public static final String NODE_RING_PAGE_ORDER = "ring-page-order";
    public static final String NODE_EVENT_CHANNEL = "event-channel";
    public static final String NODE_PROTOCOL = "protocol";

    private Blkif() {
    }

    /** The node of ring page {@code i} of a multi-page ring: {@code ring-ref0}, {@code ring-ref1}, ... */
    public static String ringRef(int i) {
        return NODE_RING_REF + i;
    }

    /** An operation's name as blkif.h spells it, or "unknown N". */
    public static String opName(int op) {
        return switch (op) {
            case OP_READ -> "read";
            case OP_WRITE -> "write";
            case OP_WRITE_BARRIER -> "write-barrier";
            case OP_FLUSH_DISKCACHE -> "flush-diskcache";
            case OP_RESERVED_1 -> "reserved-1";
            case OP_DISCARD -> "discard";
            case OP_INDIRECT -> "indirect";
            default -> "unknown " + op;
        };
    }
}
