package xen.evtchn.api.abi;

/**
 * HVM_PARAM_* indices of HVMOP_set_param / HVMOP_get_param (public/hvm/params.h, x86), and the
 * encoding of {@link #CALLBACK_IRQ}'s value: its type in bits 63..56
 * ({@link #CALLBACK_TYPE_SHIFT}), the rest by type. A value of 0 means no callback.
 */
public final class HvmParam {
    /** How event channel upcalls reach the guest without a per-vCPU vector. */
    public static final int CALLBACK_IRQ = 0;
    /** The xenstore ring's guest frame (set by the toolstack). */
    public static final int STORE_PFN = 1;
    /** The xenstore event channel port. */
    public static final int STORE_EVTCHN = 2;
    /** The PV console ring's guest frame (set by the toolstack). */
    public static final int CONSOLE_PFN = 17;
    /** The PV console event channel port. */
    public static final int CONSOLE_EVTCHN = 18;

    /** HVM_NR_PARAMS of Xen 4.17 on x86 (the last index is HVM_PARAM_MCA_CAP, 38). */
    public static final int NR_PARAMS = 39;

    /** The callback type is {@code value >>> CALLBACK_TYPE_SHIFT}. */
    public static final int CALLBACK_TYPE_SHIFT = 56;
    /** HVM_PARAM_CALLBACK_TYPE_GSI: value[55:0] is a GSI (0 aliases "no callback"). */
    public static final int CALLBACK_TYPE_GSI = 0;
    /** HVM_PARAM_CALLBACK_TYPE_PCI_INTX: segment [47:32], bus [31:16], devfn [15:8], INTx pin [1:0]. */
    public static final int CALLBACK_TYPE_PCI_INTX = 1;
    /** HVM_PARAM_CALLBACK_TYPE_VECTOR: value[7:0] is a vector injected without an EOI. */
    public static final int CALLBACK_TYPE_VECTOR = 2;

    private HvmParam() {
    }
}
