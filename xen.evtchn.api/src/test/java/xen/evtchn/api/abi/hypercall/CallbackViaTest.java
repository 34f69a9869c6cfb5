package xen.evtchn.api.abi.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;

/** HVM_PARAM_CALLBACK_IRQ values decoded as Xen's hvm_set_callback_via does (params.h). */
class CallbackViaTest {
    @Test
    void zeroIsNoCallback() {
        assertEquals(UpcallRoute.NONE, CallbackVia.route(0));
    }

    @Test
    void typeTwoIsAVectorInTheLowByte() {
        assertEquals(new UpcallRoute.Vector(0xF3), CallbackVia.route(0x0200_0000_0000_00F3L));
        assertEquals(0x0200_0000_0000_00F3L, CallbackVia.vector(0xF3));
        assertEquals(new UpcallRoute.Vector(0x21), CallbackVia.route(0x0200_0000_0000_FF21L), "only bits 7..0");
    }

    @Test
    void typeZeroIsAGsi() {
        assertEquals(new UpcallRoute.Gsi(28), CallbackVia.route(28));
        assertEquals(new UpcallRoute.Gsi(0x12345), CallbackVia.route(0x12345));
        assertEquals(28L, CallbackVia.gsi(28));
    }

    @Test
    void aGsiBeyondAnIntIsNoCallback() {
        assertEquals(UpcallRoute.NONE, CallbackVia.route(0x0000_0000_8000_0000L), "GSI 2^31");
        assertEquals(UpcallRoute.NONE, CallbackVia.route(0x00FF_FFFF_FFFF_FFFFL), "the largest GSI value[55:0] holds");
        assertEquals(new UpcallRoute.Gsi(Integer.MAX_VALUE), CallbackVia.route(Integer.MAX_VALUE));
    }

    @Test
    void typeOneIsAPciIntxLine() {
        // segment 0x0007 (ignored), bus 0x0012, devfn 0x18 (device 3 function 0), INTC (pin 2)
        long value = 0x0100_0007_0012_1802L;
        assertEquals(new UpcallRoute.PciIntx(0x12, 0x18, 2), CallbackVia.route(value));
        assertEquals(new UpcallRoute.PciIntx(0x12, 0x18, 2), CallbackVia.route(CallbackVia.pciIntx(0x12, 0x18, 2)));
        assertEquals(0x0100_0000_0012_1802L, CallbackVia.pciIntx(0x12, 0x18, 2));
        assertEquals(new UpcallRoute.PciIntx(0xFFFF, 0xFF, 3), CallbackVia.route(0x0100_0000_FFFF_FFFFL));
    }

    @Test
    void unknownTypesAreNoCallbackAsInXen() {
        assertEquals(UpcallRoute.NONE, CallbackVia.route(0x0300_0000_0000_00F3L));
        assertEquals(UpcallRoute.NONE, CallbackVia.route(0xFF00_0000_0000_00F3L));
        assertEquals(0xFF, CallbackVia.type(0xFF00_0000_0000_00F3L), "the type is unsigned");
    }
}
