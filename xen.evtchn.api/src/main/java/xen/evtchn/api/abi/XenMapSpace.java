package xen.evtchn.api.abi;

/** XENMAPSPACE_* values of xen_add_to_physmap.space (public/memory.h). */
public final class XenMapSpace {
    /** The shared_info page (idx must be 0). */
    public static final int SHARED_INFO = 0;
    /** A grant table frame (idx is the frame number). */
    public static final int GRANT_TABLE = 1;
    /** A guest frame moved to another place (idx is the frame). */
    public static final int GMFN = 2;
    /** {@code size} guest frames from idx. */
    public static final int GMFN_RANGE = 3;
    /** A foreign domain's frame: only through XENMEM_add_to_physmap_batch. */
    public static final int GMFN_FOREIGN = 4;
    /** Device MMIO (Arm only). */
    public static final int DEV_MMIO = 5;

    private XenMapSpace() {
    }
}
