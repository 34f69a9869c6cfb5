package xen.evtchn.api.abi;

/**
 * XENVER_* sub-operations of the xen_version hypercall (public/version.h), and the sizes of the
 * character arrays they fill. The codecs are in {@code xen.evtchn.api.abi.hypercall}.
 */
public final class XenVer {
    /** Returns (major &lt;&lt; 16) | minor; the argument is ignored. */
    public static final int VERSION = 0;
    /** Fills xen_extraversion_t, char[{@value #EXTRAVERSION_LEN}]. */
    public static final int EXTRAVERSION = 1;
    /** Fills xen_compile_info_t. */
    public static final int COMPILE_INFO = 2;
    /** Fills xen_capabilities_info_t, char[{@value #CAPABILITIES_LEN}]. */
    public static final int CAPABILITIES = 3;
    /** Fills xen_changeset_info_t, char[{@value #CHANGESET_LEN}]. */
    public static final int CHANGESET = 4;
    /** Fills xen_platform_parameters_t: one xen_ulong_t. */
    public static final int PLATFORM_PARAMETERS = 5;
    /** Reads and fills xen_feature_info_t. */
    public static final int GET_FEATURES = 6;
    /** Returns the page size; the argument must be NULL. */
    public static final int PAGESIZE = 7;

    /** XEN_EXTRAVERSION_LEN. */
    public static final int EXTRAVERSION_LEN = 16;
    /** XEN_CAPABILITIES_INFO_LEN. */
    public static final int CAPABILITIES_LEN = 1024;
    /** XEN_CHANGESET_INFO_LEN. */
    public static final int CHANGESET_LEN = 64;

    private XenVer() {
    }
}
