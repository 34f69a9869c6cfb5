package xen.evtchn.api.abi;

/**
 * XENMEM_* sub-operations of the memory_op hypercall (public/memory.h). The command argument
 * carries the sub-operation in its low {@link #EXTENT_SHIFT} bits ({@link #CMD_MASK}) and a
 * continuation's start extent above them.
 */
public final class XenMem {
    /** Maps a frame of a {@link XenMapSpace} at a guest frame: struct xen_add_to_physmap. */
    public static final int ADD_TO_PHYSMAP = 7;

    /** MEMOP_CMD_MASK: the sub-operation bits of the command. */
    public static final long CMD_MASK = 0x3F;
    /** MEMOP_EXTENT_SHIFT: the start extent sits above this bit. */
    public static final int EXTENT_SHIFT = 6;

    private XenMem() {
    }
}
