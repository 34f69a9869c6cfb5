package xen.evtchn.api.abi.hypercall;

import static xen.evtchn.api.abi.HvmParam.CALLBACK_TYPE_GSI;
import static xen.evtchn.api.abi.HvmParam.CALLBACK_TYPE_PCI_INTX;
import static xen.evtchn.api.abi.HvmParam.CALLBACK_TYPE_SHIFT;
import static xen.evtchn.api.abi.HvmParam.CALLBACK_TYPE_VECTOR;

import xen.evtchn.api.UpcallRoute;

/**
 * The value of HVM_PARAM_CALLBACK_IRQ as an {@link UpcallRoute}, decoded as Xen's
 * hvm_set_callback_via does: 0 is no callback; the type is bits 63..56; a type Xen does not know
 * (3 and above on x86) also means no callback (Xen accepts and stores such a value).
 */
public final class CallbackVia {
    private static final long PAYLOAD = (1L << CALLBACK_TYPE_SHIFT) - 1;

    private CallbackVia() {
    }

    /** The callback type, bits 63..56 of {@code value}. */
    public static int type(long value) {
        return (int) (value >>> CALLBACK_TYPE_SHIFT);
    }

    /**
     * The route {@code value} selects: type 2 a {@link UpcallRoute.Vector} of bits 7..0; type 1 a
     * {@link UpcallRoute.PciIntx} (bus 31..16, devfn 15..8, pin 1..0; the PCI segment in 47..32
     * is ignored, as Xen does); type 0 a {@link UpcallRoute.Gsi} of bits 55..0, where GSI 0 (it
     * aliases "no callback") and a GSI beyond an int mean none; anything else none.
     */
    public static UpcallRoute route(long value) {
        if (value == 0) {
            return UpcallRoute.NONE;
        }
        return switch (type(value)) {
            case CALLBACK_TYPE_VECTOR -> new UpcallRoute.Vector((int) (value & 0xFF));
            case CALLBACK_TYPE_PCI_INTX -> new UpcallRoute.PciIntx((int) (value >>> 16) & 0xFFFF,
                    (int) (value >>> 8) & 0xFF, (int) value & 3);
            case CALLBACK_TYPE_GSI -> {
                long gsi = value & PAYLOAD;
                yield gsi == 0 || gsi > Integer.MAX_VALUE ? UpcallRoute.NONE : new UpcallRoute.Gsi((int) gsi);
            }
            default -> UpcallRoute.NONE;
        };
    }

    /** The value that selects vector {@code vector} (0..255). */
    public static long vector(int vector) {
        return (long) CALLBACK_TYPE_VECTOR << CALLBACK_TYPE_SHIFT | (vector & 0xFF);
    }

    /** The value that selects GSI {@code gsi}. */
    public static long gsi(int gsi) {
        return (long) CALLBACK_TYPE_GSI << CALLBACK_TYPE_SHIFT | Integer.toUnsignedLong(gsi);
    }

    /** The value that selects PCI INTx {@code pin} (0 = INTA) of {@code bus}:{@code devfn}. */
    public static long pciIntx(int bus, int devfn, int pin) {
        return (long) CALLBACK_TYPE_PCI_INTX << CALLBACK_TYPE_SHIFT | (long) (bus & 0xFFFF) << 16
                | (devfn & 0xFF) << 8 | pin & 3;
    }
}
