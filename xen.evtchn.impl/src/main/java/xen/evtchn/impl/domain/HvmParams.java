package xen.evtchn.impl.domain;

import java.util.concurrent.atomic.AtomicLongArray;
import xen.evtchn.api.abi.HvmParam;

/**
 * A domain's HVM parameters: the raw value of every index below {@link HvmParam#NR_PARAMS}, 0
 * until set, and which of them the guest itself may set or read.
 * <p>
 * Xen lets an HVM guest set CALLBACK_IRQ, STORE_EVTCHN and CONSOLE_EVTCHN (and a few knobs of
 * hardware emulated by Xen's firmware path: VM86_TSS, ACPI_IOPORTS_LOCATION,
 * VM_GENERATION_ID_ADDR, X87_FIP_WIDTH, VM86_TSS_SIZED, which this project does not emulate), and
 * read CALLBACK_IRQ, the STORE and CONSOLE pair, ALTP2M and X87_FIP_WIDTH; every other index is
 * the toolstack's and answers the guest -EPERM. Here the guest may set the three event channel
 * ones and read the five STORE/CONSOLE/CALLBACK ones; the host presets the rest.
 */
public final class HvmParams {
    private final AtomicLongArray values = new AtomicLongArray(HvmParam.NR_PARAMS);

    /** True for an index below {@link HvmParam#NR_PARAMS} ({@code index} is the guest's u32). */
    public static boolean isIndex(int index) {
        return Integer.compareUnsigned(index, HvmParam.NR_PARAMS) < 0;
    }

    /** True if the guest may set {@code index} itself (HVMOP_set_param with its own domid). */
    public static boolean guestMaySet(int index) {
        return switch (index) {
            case HvmParam.CALLBACK_IRQ, HvmParam.STORE_EVTCHN, HvmParam.CONSOLE_EVTCHN -> true;
            default -> false;
        };
    }

    /** True if the guest may read {@code index} itself (HVMOP_get_param with its own domid). */
    public static boolean guestMayGet(int index) {
        return switch (index) {
            case HvmParam.CALLBACK_IRQ, HvmParam.STORE_PFN, HvmParam.STORE_EVTCHN, HvmParam.CONSOLE_PFN,
                    HvmParam.CONSOLE_EVTCHN -> true;
            default -> false;
        };
    }

    /** The raw value of a valid index. */
    long get(int index) {
        return values.get(index);
    }

    void set(int index, long value) {
        values.set(index, value);
    }
}
