package xen.evtchn.api.abi;

/** HVMOP_* sub-operations of the hvm_op hypercall (public/hvm/hvm_op.h) that a guest uses. */
public final class HvmOp {
    /** struct xen_hvm_param: set one {@link HvmParam}. */
    public static final int SET_PARAM = 0;
    /** struct xen_hvm_param: read one {@link HvmParam}. */
    public static final int GET_PARAM = 1;
    /** struct xen_hvm_evtchn_upcall_vector: a per-vCPU LAPIC vector for the event channel upcall. */
    public static final int SET_EVTCHN_UPCALL_VECTOR = 23;

    /** Vectors below this are exceptions: HVMOP_set_evtchn_upcall_vector refuses them (-EINVAL). */
    public static final int MIN_UPCALL_VECTOR = 0x10;

    private HvmOp() {
    }
}
