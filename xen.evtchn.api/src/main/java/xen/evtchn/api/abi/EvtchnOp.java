package xen.evtchn.api.abi;

/**
 * EVTCHNOP_* sub-operations of the event_channel_op hypercall, with the size of each one's
 * argument struct (the same for 32- and 64-bit guests). The codecs are in
 * {@code xen.evtchn.api.abi.evtchnop}.
 */
public enum EvtchnOp {
    BIND_INTERDOMAIN(0, 12),
    BIND_VIRQ(1, 12),
    BIND_PIRQ(2, 12),
    CLOSE(3, 4),
    SEND(4, 4),
    STATUS(5, 24),
    ALLOC_UNBOUND(6, 8),
    BIND_IPI(7, 8),
    BIND_VCPU(8, 8),
    UNMASK(9, 4),
    RESET(10, 2),
    INIT_CONTROL(11, 24),
    EXPAND_ARRAY(12, 8),
    SET_PRIORITY(13, 8);

    private static final EvtchnOp[] BY_NUMBER = values();

    private final int number;
    private final int argSize;

    EvtchnOp(int number, int argSize) {
        this.number = number;
        this.argSize = argSize;
    }

    public int number() {
        return number;
    }

    /** Bytes of the op's argument struct in guest memory. */
    public int argSize() {
        return argSize;
    }

    /** The op with this command number, or null (the hypercall then answers -ENOSYS). */
    public static EvtchnOp of(int cmd) {
        return cmd >= 0 && cmd < BY_NUMBER.length ? BY_NUMBER[cmd] : null;
    }
}
