package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.DOMID_SELF;
import static xen.evtchn.impl.hypercall.PlatformFixture.EFAULT;
import static xen.evtchn.impl.hypercall.PlatformFixture.EINVAL;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOENT;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.EPERM;
import static xen.evtchn.impl.hypercall.PlatformFixture.ESRCH;
import static xen.evtchn.impl.hypercall.PlatformFixture.EVENT_CHANNEL_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.HVM_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.RAM;
import static xen.evtchn.impl.hypercall.PlatformFixture.U16;
import static xen.evtchn.impl.hypercall.PlatformFixture.U32;
import static xen.evtchn.impl.hypercall.PlatformFixture.U64;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * HYPERVISOR_hvm_op through the dispatcher with its structs in guest RAM: set_param/get_param
 * (callback routes reaching the software backend, host-preset toolstack params, Xen's guest
 * permissions and error order) and set_evtchn_upcall_vector.
 */
class HvmOpHandlerTest {
    private static final int SET_PARAM = 0;
    private static final int GET_PARAM = 1;
    private static final int SET_EVTCHN_UPCALL_VECTOR = 23;
    private static final int CALLBACK_IRQ = 0;
    private static final int STORE_PFN = 1;
    private static final int STORE_EVTCHN = 2;
    private static final int CONSOLE_PFN = 17;
    private static final int CONSOLE_EVTCHN = 18;
    private static final long VECTOR_F3 = 2L << 56 | 0xF3;
    private static final long SENTINEL = 0x5A5A_5A5A_5A5A_5A5AL;

    private final PlatformFixture fx = new PlatformFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    /** xen_hvm_param at ARG: 0 domid u16, 4 index u32, 8 value u64. */
    private static void param(Guest g, int domid, int index, long value) {
        MemorySegment s = g.at(ARG, 16);
        s.set(U16, 0, (short) domid);
        s.set(U16, 2, (short) 0);
        s.set(U32, 4, index);
        s.set(U64, 8, value);
    }

    private static long set(Guest g, int domid, int index, long value) {
        param(g, domid, index, value);
        return g.call(HVM_OP, SET_PARAM, ARG);
    }

    private static long set(Guest g, int index, long value) {
        return set(g, DOMID_SELF, index, value);
    }

    /** get_param with a sentinel in the value field; returns the result. */
    private static long get(Guest g, int domid, int index) {
        param(g, domid, index, SENTINEL);
        return g.call(HVM_OP, GET_PARAM, ARG);
    }

    /** The value get_param wrote (or the sentinel it left). */
    private static long value(Guest g) {
        return g.ram().get(U64, ARG + 8);
    }

    /** EVTCHNOP_bind_ipi on {@code vcpu} and EVTCHNOP_send, by hypercall; returns the port. */
    private static int bindIpiAndSend(Guest g, int vcpu) {
        long at = 0x5000;
        g.ram().set(U32, at, vcpu);
        assertEquals(0, g.call(EVENT_CHANNEL_OP, 7, at), "bind_ipi");
        int port = g.ram().get(U32, at + 4);
        g.ram().set(U32, at + 8, port);
        assertEquals(0, g.call(EVENT_CHANNEL_OP, 4, at + 8), "send");
        return port;
    }

    /** set_evtchn_upcall_vector at ARG: 0 vcpu u32, 4 vector u8 (8 bytes). */
    private static long upcallVector(Guest g, int vcpu, int vector) {
        MemorySegment s = g.at(ARG, 8);
        s.fill((byte) 0);
        s.set(U32, 0, vcpu);
        s.set(ValueLayout.JAVA_BYTE, 4, (byte) vector);
        return g.call(HVM_OP, SET_EVTCHN_UPCALL_VECTOR, ARG);
    }

    // ---- HVM_PARAM_CALLBACK_IRQ ---------------------------------------------------------------

    @Test
    void aVectorCallbackCarriesEventsToTheBackendAsThatVector() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(new UpcallRoute.Vector(0xF3), g.d().upcalls().callback());
        bindIpiAndSend(g, 0);
        assertEquals(new UpcallRoute.Vector(0xF3), g.b().vcpu(0).lastRoute());
        assertEquals(1, g.b().vcpu(0).upcallsDelivered());
    }

    @Test
    void getParamReturnsTheRawCallbackValue() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(0, get(g, DOMID_SELF, CALLBACK_IRQ));
        assertEquals(VECTOR_F3, value(g));
        assertEquals(DOMID_SELF, Short.toUnsignedInt(g.ram().get(U16, ARG)), "the in fields are left as they were");
        assertEquals(CALLBACK_IRQ, g.ram().get(U32, ARG + 4));
    }

    @Test
    void aGsiCallbackParsesAndDelivers() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, 28));
        assertEquals(new UpcallRoute.Gsi(28), g.d().upcalls().callback());
        bindIpiAndSend(g, 0);
        assertEquals(new UpcallRoute.Gsi(28), g.b().vcpu(0).lastRoute());
        assertEquals(0, get(g, DOMID_SELF, CALLBACK_IRQ));
        assertEquals(28, value(g));
    }

    @Test
    void aPciIntxCallbackParsesBusDevfnAndPin() {
        Guest g = fx.guest(1);
        long intx = 1L << 56 | 0x0012L << 16 | 0x18 << 8 | 2; // bus 0x12, devfn 0x18 (device 3), INTC
        assertEquals(0, set(g, CALLBACK_IRQ, intx));
        assertEquals(new UpcallRoute.PciIntx(0x12, 0x18, 2), g.d().upcalls().callback());
        bindIpiAndSend(g, 0);
        assertEquals(new UpcallRoute.PciIntx(0x12, 0x18, 2), g.b().vcpu(0).lastRoute());
        assertEquals(0, get(g, DOMID_SELF, CALLBACK_IRQ));
        assertEquals(intx, value(g));
    }

    @Test
    void zeroMeansNoCallback() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(0, set(g, CALLBACK_IRQ, 0));
        assertEquals(UpcallRoute.NONE, g.d().upcalls().callback());
        bindIpiAndSend(g, 0);
        assertEquals(UpcallRoute.NONE, g.b().vcpu(0).lastRoute());
    }

    @Test
    void anUnknownCallbackTypeIsAcceptedAsNoCallbackAndKeptRawAsXenDoes() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        long type3 = 3L << 56 | 0xF3;
        assertEquals(0, set(g, CALLBACK_IRQ, type3));
        assertEquals(UpcallRoute.NONE, g.d().upcalls().callback());
        assertEquals(0, get(g, DOMID_SELF, CALLBACK_IRQ));
        assertEquals(type3, value(g));
    }

    @Test
    void anUpcallPendingBeforeTheCallbackIsSetIsDeliveredByTheNewRoute() {
        Guest g = fx.guest(1);
        bindIpiAndSend(g, 0); // no callback yet: upcall_pending is set, nothing injected
        assertEquals(UpcallRoute.NONE, g.b().vcpu(0).lastRoute());
        assertEquals(1, g.b().vcpu(0).upcallsDelivered());
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(new UpcallRoute.Vector(0xF3), g.b().vcpu(0).lastRoute(), "not left behind");
        assertEquals(2, g.b().vcpu(0).upcallsDelivered());
    }

    @Test
    void noUpcallIsInjectedWhenNothingIsPending() {
        Guest g = fx.guest(1);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(0, g.b().vcpu(0).upcallsDelivered());
        assertNull(g.b().vcpu(0).lastRoute());
    }

    // ---- other parameters ---------------------------------------------------------------------

    @Test
    void toolstackParamsPresetByTheHostAreReadByTheGuest() {
        Guest g = fx.guest(1);
        g.p().setParam(STORE_PFN, 0xFEFFF);
        g.p().setParam(STORE_EVTCHN, 5);
        g.p().setParam(CONSOLE_PFN, 0xFEFFE);
        g.p().setParam(CONSOLE_EVTCHN, 6);
        long[][] expected = {{STORE_PFN, 0xFEFFF}, {STORE_EVTCHN, 5}, {CONSOLE_PFN, 0xFEFFE}, {CONSOLE_EVTCHN, 6}};
        for (long[] e : expected) {
            assertEquals(0, get(g, DOMID_SELF, (int) e[0]), "param " + e[0]);
            assertEquals(e[1], value(g), "param " + e[0]);
        }
    }

    @Test
    void anUnsetParamReadsZero() {
        Guest g = fx.guest(1);
        for (int index : new int[] {CALLBACK_IRQ, STORE_PFN, STORE_EVTCHN, CONSOLE_PFN, CONSOLE_EVTCHN}) {
            assertEquals(0, get(g, DOMID_SELF, index), "param " + index);
            assertEquals(0L, value(g), "param " + index);
        }
    }

    @Test
    void theGuestMaySetTheEvtchnParamsButNotThePfns() {
        Guest g = fx.guest(1);
        g.p().setParam(STORE_PFN, 0xFEFFF);
        assertEquals(0, set(g, STORE_EVTCHN, 7));
        assertEquals(0, set(g, CONSOLE_EVTCHN, 8));
        assertEquals(EPERM, set(g, STORE_PFN, 0x1234), "the toolstack's, as in Xen");
        assertEquals(EPERM, set(g, CONSOLE_PFN, 0x1234));
        assertEquals(7, g.p().param(STORE_EVTCHN));
        assertEquals(8, g.p().param(CONSOLE_EVTCHN));
        assertEquals(0xFEFFF, g.p().param(STORE_PFN), "unchanged");
        assertEquals(0, g.p().param(CONSOLE_PFN));
        assertEquals(0, get(g, DOMID_SELF, STORE_EVTCHN));
        assertEquals(7, value(g));
    }

    @Test
    void validParamsThatAreTheToolstacksAnswerTheGuestEperm() {
        Guest g = fx.guest(1);
        for (int index : new int[] {3, 4, 9, 10, 15, 19, 35, 36, 38}) {
            assertEquals(EPERM, set(g, index, 1), "set " + index);
            assertEquals(EPERM, get(g, DOMID_SELF, index), "get " + index);
            assertEquals(SENTINEL, value(g), "get " + index + " wrote nothing");
            assertEquals(0, g.p().param(index), "set " + index + " stored nothing");
        }
    }

    @Test
    void anIndexAtOrAboveHvmNrParamsIsEinval() {
        Guest g = fx.guest(1);
        for (int index : new int[] {39, 40, 1000, 0x8000_0000, -1}) {
            assertEquals(EINVAL, set(g, index, 1), "set " + index);
            assertEquals(EINVAL, get(g, DOMID_SELF, index), "get " + index);
            assertEquals(SENTINEL, value(g), "get " + index + " wrote nothing");
        }
    }

    @Test
    void theDomidMustBeTheCallersInXensOrder() {
        Guest g = fx.guest(1);
        fx.guest(2);
        assertEquals(0, set(g, 1, CALLBACK_IRQ, VECTOR_F3), "own domid");
        assertEquals(EPERM, set(g, 2, CALLBACK_IRQ, 28), "another guest");
        assertEquals(EPERM, set(g, 0, CALLBACK_IRQ, 28), "the host");
        assertEquals(ESRCH, set(g, 77, CALLBACK_IRQ, 28), "no such domain");
        assertEquals(EPERM, get(g, 2, CALLBACK_IRQ));
        assertEquals(SENTINEL, value(g));
        assertEquals(ESRCH, get(g, 77, CALLBACK_IRQ));
        assertEquals(EINVAL, set(g, 2, 39, 0), "another domain with a bad index: the index is checked first");
        assertEquals(ESRCH, set(g, 77, 39, 0), "no domain: checked before the index");
        assertEquals(new UpcallRoute.Vector(0xF3), g.d().upcalls().callback(), "no failed call changed the callback");
    }

    @Test
    void aParamStructOutsideRamIsEfault() {
        Guest g = fx.guest(1);
        assertEquals(EFAULT, g.call(HVM_OP, SET_PARAM, RAM - 8));
        assertEquals(EFAULT, g.call(HVM_OP, GET_PARAM, RAM - 15));
        assertEquals(EFAULT, g.call(HVM_OP, GET_PARAM, RAM + 4096));
    }

    @Test
    void aThirtyTwoBitCallerUsesTheSameLayout() {
        Guest g = fx.guest(1, GuestWidth.X86_32, 1);
        param(g, DOMID_SELF, CALLBACK_IRQ, VECTOR_F3);
        assertEquals(0, g.call32(HVM_OP, SET_PARAM, ARG));
        assertEquals(new UpcallRoute.Vector(0xF3), g.d().upcalls().callback());
        param(g, DOMID_SELF, CALLBACK_IRQ, SENTINEL);
        assertEquals(0, g.call32(HVM_OP, GET_PARAM, ARG));
        assertEquals(VECTOR_F3, value(g));
    }

    @Test
    void softResetForgetsTheCallbackParam() {
        Guest g = fx.guest(1);
        g.p().setParam(STORE_PFN, 0xFEFFF);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        g.p().softReset();
        assertEquals(0, get(g, DOMID_SELF, CALLBACK_IRQ));
        assertEquals(0L, value(g));
        assertEquals(0xFEFFF, g.p().param(STORE_PFN), "the toolstack's params stay");
    }

    // ---- HVMOP_set_evtchn_upcall_vector ----------------------------------------------------

    @Test
    void anEventForAVcpuWithAnUpcallVectorArrivesAsThatLapicVector() {
        Guest g = fx.guest(1, GuestWidth.X86_64, 2);
        assertEquals(0, set(g, CALLBACK_IRQ, VECTOR_F3));
        assertEquals(0, upcallVector(g, 1, 0xF0));
        assertEquals(0, g.b().vcpu(1).upcallsDelivered(), "nothing pending: nothing injected");
        bindIpiAndSend(g, 1);
        assertEquals(new UpcallRoute.LapicVector(0xF0), g.b().vcpu(1).lastRoute());
        bindIpiAndSend(g, 0);
        assertEquals(new UpcallRoute.Vector(0xF3), g.b().vcpu(0).lastRoute(), "vCPU 0 keeps the domain's callback");
    }

    @Test
    void anUpcallPendingBeforeTheVectorIsSetArrivesByIt() {
        Guest g = fx.guest(1, GuestWidth.X86_64, 2);
        bindIpiAndSend(g, 1);
        assertEquals(UpcallRoute.NONE, g.b().vcpu(1).lastRoute());
        assertEquals(0, upcallVector(g, 1, 0xF0));
        assertEquals(new UpcallRoute.LapicVector(0xF0), g.b().vcpu(1).lastRoute());
    }

    @Test
    void theLowestVectorIs0x10() {
        Guest g = fx.guest(1);
        assertEquals(EINVAL, upcallVector(g, 0, 0x0F));
        assertEquals(EINVAL, upcallVector(g, 0, 0));
        assertEquals(0, upcallVector(g, 0, 0x10));
        bindIpiAndSend(g, 0);
        assertEquals(new UpcallRoute.LapicVector(0x10), g.b().vcpu(0).lastRoute());
    }

    @Test
    void noSuchVcpuIsEnoentAndTheVectorIsCheckedFirst() {
        Guest g = fx.guest(1, GuestWidth.X86_64, 2);
        assertEquals(ENOENT, upcallVector(g, 2, 0xF0));
        assertEquals(ENOENT, upcallVector(g, -1, 0xF0), "the vcpu is a u32");
        assertEquals(EINVAL, upcallVector(g, 5, 0x0F), "Xen checks the vector before the vCPU");
    }

    @Test
    void anUpcallVectorStructOutsideRamIsEfault() {
        Guest g = fx.guest(1);
        g.ram().set(U32, RAM - 5, 0);
        g.ram().set(ValueLayout.JAVA_BYTE, RAM - 1, (byte) 0xF0);
        assertEquals(EFAULT, g.call(HVM_OP, SET_EVTCHN_UPCALL_VECTOR, RAM - 5), "vcpu and vector fit, the padding does not");
        assertEquals(EFAULT, g.call(HVM_OP, SET_EVTCHN_UPCALL_VECTOR, RAM + 64));
    }

    // ---- unknown ops ------------------------------------------------------------------------

    @Test
    void otherHvmOpsAreEnosys() {
        Guest g = fx.guest(1);
        param(g, DOMID_SELF, CALLBACK_IRQ, VECTOR_F3);
        for (long op : new long[] {2, 3, 4, 5, 9, 10, 22, 24, 25, 1L << 32, 1L << 32 | SET_PARAM, -1L}) {
            assertEquals(ENOSYS, g.call(HVM_OP, op, ARG), "HVMOP " + op);
        }
        assertEquals(UpcallRoute.NONE, g.d().upcalls().callback(), "no other op set the param");
    }
}
