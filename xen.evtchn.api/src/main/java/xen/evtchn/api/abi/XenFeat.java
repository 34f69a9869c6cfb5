package xen.evtchn.api.abi;

/**
 * XENFEAT_* bit numbers (public/features.h), reported by XENVER_get_features in submap 0, the
 * only submap ({@link #NR_SUBMAPS}).
 */
public final class XenFeat {
    public static final int WRITABLE_PAGE_TABLES = 0;
    public static final int WRITABLE_DESCRIPTOR_TABLES = 1;
    public static final int AUTO_TRANSLATED_PHYSMAP = 2;
    /** The guest kernel runs in ring 0 of a PV guest: never to be advertised to an HVM guest. */
    public static final int SUPERVISOR_MODE_KERNEL = 3;
    public static final int PAE_PGDIR_ABOVE_4GB = 4;
    public static final int MMU_PT_UPDATE_PRESERVE_AD = 5;
    public static final int HIGHMEM_ASSIST = 6;
    public static final int GNTTAB_MAP_AVAIL_BITS = 7;
    /** HVM_PARAM_CALLBACK_IRQ accepts the vector type. */
    public static final int HVM_CALLBACK_VECTOR = 8;
    /** The pvclock algorithm is safe to use on HVM. */
    public static final int HVM_SAFE_PVCLOCK = 9;
    public static final int HVM_PIRQS = 10;
    public static final int DOM0 = 11;
    public static final int MEMORY_OP_VNODE_SUPPORTED = 13;

    /** Submaps of 32 feature bits: only submap 0 exists. */
    public static final int NR_SUBMAPS = 1;

    private XenFeat() {
    }

    /** The submap bit of feature {@code feature} (0..31). */
    public static int bit(int feature) {
        return 1 << feature;
    }
}
