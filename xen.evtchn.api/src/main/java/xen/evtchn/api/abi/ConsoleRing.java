package xen.evtchn.api.abi;

/**
 * struct xencons_interface (public/io/console.h), the PV console ring: one page at
 * HVM_PARAM_CONSOLE_PFN, kicked both ways on HVM_PARAM_CONSOLE_EVTCHN. {@code in} carries input
 * to the guest (the backend produces, the guest consumes), {@code out} the guest's output. The
 * indices are free-running u32s; a byte's place is {@code index & (size - 1)}, and a ring holds
 * at most its size: {@code prod - cons} (unsigned) beyond it means the indices are corrupt.
 */
public final class ConsoleRing {
    public static final int IN = 0x000;
    public static final int IN_SIZE = 1024;
    public static final int OUT = 0x400;
    public static final int OUT_SIZE = 2048;
    public static final int IN_CONS = 0xC00;
    public static final int IN_PROD = 0xC04;
    public static final int OUT_CONS = 0xC08;
    public static final int OUT_PROD = 0xC0C;
    /** Bytes used by the structure (the rest of the page is unused). */
    public static final int SIZE = 0xC10;

    private ConsoleRing() {
    }
}
