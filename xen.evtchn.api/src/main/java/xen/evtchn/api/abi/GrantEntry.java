package xen.evtchn.api.abi;

/**
 * A version 1 grant entry, struct grant_entry_v1 (public/grant_table.h): 0 flags u16, 2 domid u16
 * (the domain allowed to use the grant), 4 frame u32 (the granted guest frame); {@value #SIZE}
 * bytes, {@value #PER_FRAME} in a 4 KiB table frame. Flags and domid form one 32-bit word that Xen
 * updates with a compare-and-swap: flags in its low half, domid in its high half.
 *
 * @since 1.3
 */
public final class GrantEntry {
    public static final int FLAGS = 0;
    public static final int DOMID = 2;
    public static final int FRAME = 4;
    public static final int SIZE = 8;
    public static final int PER_FRAME = 4096 / SIZE;

    /** The entry grants nothing. */
    public static final int GTF_INVALID = 0;
    /** domid may map and access frame. */
    public static final int GTF_PERMIT_ACCESS = 1;
    /** domid may transfer a frame into this entry. */
    public static final int GTF_ACCEPT_TRANSFER = 2;
    /** domid may use another domain's grant (version 2 only). */
    public static final int GTF_TRANSITIVE = 3;
    /** The two bits of the entry's type. */
    public static final int GTF_TYPE_MASK = 3;
    /** Set by the guest: read access only. */
    public static final int GTF_READONLY = 1 << 2;
    /** Set by Xen while the frame is mapped or copied for reading (any access). */
    public static final int GTF_READING = 1 << 3;
    /** Set by Xen while the frame is mapped or copied for writing. */
    public static final int GTF_WRITING = 1 << 4;
    public static final int GTF_PWT = 1 << 5;
    public static final int GTF_PCD = 1 << 6;
    public static final int GTF_PAT = 1 << 7;
    /** Only part of the frame is granted (version 2 only; refused for a map). */
    public static final int GTF_SUB_PAGE = 1 << 8;
    /** Transfer entries: the transfer is committed (same bit as GTF_READONLY). */
    public static final int GTF_TRANSFER_COMMITTED = 1 << 2;
    /** Transfer entries: the transfer is complete (same bit as GTF_READING). */
    public static final int GTF_TRANSFER_COMPLETED = 1 << 3;

    /** The first entries are reserved for the toolstack: GNTTAB_NR_RESERVED_ENTRIES. */
    public static final int NR_RESERVED = 8;
    /** Entry of the console ring: GNTTAB_RESERVED_CONSOLE. */
    public static final int RESERVED_CONSOLE = 0;
    /** Entry of the XenStore ring: GNTTAB_RESERVED_XENSTORE. */
    public static final int RESERVED_XENSTORE = 1;

    private GrantEntry() {
    }

    /** The flags of a flags-and-domid word. */
    public static int flags(int word) {
        return word & 0xFFFF;
    }

    /** The domid of a flags-and-domid word. */
    public static int domid(int word) {
        return word >>> 16;
    }

    /** The flags-and-domid word of {@code flags} and {@code domid}. */
    public static int word(int flags, int domid) {
        return (flags & 0xFFFF) | (domid & 0xFFFF) << 16;
    }
}
