package xen.evtchn.api.abi;

/**
 * GNTTABOP_* sub-operations of the grant_table_op hypercall (public/grant_table.h). An HVM
 * guest may use query_size, setup_table, set_version, get_version, copy, map_grant_ref,
 * unmap_grant_ref and swap_grant_ref; Xen answers -ENOSYS to the others (hvm_grant_table_op).
 * The argument codecs are in {@code xen.evtchn.api.abi.hypercall} ({@code Gnttab*}).
 *
 * @since 1.3
 */
public final class GnttabOp {
    public static final int MAP_GRANT_REF = 0;
    public static final int UNMAP_GRANT_REF = 1;
    /** struct gnttab_setup_table: grow the table and list its frames. */
    public static final int SETUP_TABLE = 2;
    public static final int DUMP_TABLE = 3;
    public static final int TRANSFER = 4;
    public static final int COPY = 5;
    /** struct gnttab_query_size: frames in use and the most the domain may have. */
    public static final int QUERY_SIZE = 6;
    public static final int UNMAP_AND_REPLACE = 7;
    /** struct gnttab_set_version: choose the entry format (1 or 2). */
    public static final int SET_VERSION = 8;
    public static final int GET_STATUS_FRAMES = 9;
    /** struct gnttab_get_version: the entry format in use. */
    public static final int GET_VERSION = 10;
    public static final int SWAP_GRANT_REF = 11;
    public static final int CACHE_FLUSH = 12;

    private GnttabOp() {
    }
}
