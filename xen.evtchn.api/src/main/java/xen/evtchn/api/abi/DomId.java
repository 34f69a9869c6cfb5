package xen.evtchn.api.abi;

/** domid_t values (xen.h). A domid is an unsigned 16-bit number. */
public final class DomId {
    /** Real domains have ids below this. */
    public static final int FIRST_RESERVED = 0x7FF0;
    /** "The calling domain" in any domid argument. */
    public static final int SELF = 0x7FF0;
    /**
     * The domain that backends live in: on Xen dom0, for QEMU's emulation QEMU itself. Host-side
     * backends of this project own ports in this domain, and guests offer ports to them with
     * {@code alloc_unbound(remote_dom = 0)}.
     */
    public static final int HOST = 0;

    private DomId() {
    }

    /** True for an id a real domain can have (not one of the reserved values). */
    public static boolean isReal(int domid) {
        return domid >= 0 && domid < FIRST_RESERVED;
    }
}
