package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.DOMID_SELF;
import static xen.evtchn.impl.hypercall.PlatformFixture.EFAULT;
import static xen.evtchn.impl.hypercall.PlatformFixture.EINVAL;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.EOPNOTSUPP;
import static xen.evtchn.impl.hypercall.PlatformFixture.EPERM;
import static xen.evtchn.impl.hypercall.PlatformFixture.ESRCH;
import static xen.evtchn.impl.hypercall.PlatformFixture.EVENT_CHANNEL_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.MEMORY_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.RAM;
import static xen.evtchn.impl.hypercall.PlatformFixture.U16;
import static xen.evtchn.impl.hypercall.PlatformFixture.U32;
import static xen.evtchn.impl.hypercall.PlatformFixture.U64;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * HYPERVISOR_memory_op(XENMEM_add_to_physmap) through the dispatcher, the struct in guest RAM
 * (24 bytes for a 64-bit caller, 16 for a 32-bit one): shared_info moves to the guest frame with
 * what it held, and Xen's answers for other domains, spaces, sub-ops and bad buffers.
 */
class MemoryOpHandlerTest {
    private static final int ADD_TO_PHYSMAP = 7;
    private static final long GPFN = 0x20;
    private static final long PAGE = 4096;

    private final PlatformFixture fx = new PlatformFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    /** Writes a 64-bit caller's xen_add_to_physmap at {@code at}: literal reference offsets. */
    private static void struct64(Guest g, long at, int domid, int space, long idx, long gpfn) {
        MemorySegment s = g.at(at, 24);
        s.set(U16, 0, (short) domid);
        s.set(U16, 2, (short) 0);
        s.set(U32, 4, space);
        s.set(U64, 8, idx);
        s.set(U64, 16, gpfn);
    }

    /** A 32-bit caller's: idx and gpfn are 4 bytes, gpfn at 12. */
    private static void struct32(Guest g, long at, int domid, int space, int idx, int gpfn) {
        MemorySegment s = g.at(at, 16);
        s.set(U16, 0, (short) domid);
        s.set(U16, 2, (short) 0);
        s.set(U32, 4, space);
        s.set(U32, 8, idx);
        s.set(U32, 12, gpfn);
    }

    private static long addToPhysmap(Guest g, int domid, int space, long idx, long gpfn) {
        struct64(g, ARG, domid, space, idx, gpfn);
        return g.call(MEMORY_OP, ADD_TO_PHYSMAP, ARG);
    }

    /** EVTCHNOP_bind_ipi on vCPU 0 and EVTCHNOP_send, by hypercall; returns the port. */
    private static int bindIpiAndSend(Guest g) {
        long at = 0x5000;
        g.ram().set(U32, at, 0);
        assertEquals(0, g.call(EVENT_CHANNEL_OP, 7, at), "bind_ipi");
        int port = g.ram().get(U32, at + 4);
        g.ram().set(U32, at + 8, port);
        assertEquals(0, g.call(EVENT_CHANNEL_OP, 4, at + 8), "send");
        return port;
    }

    @Test
    void sharedInfoMovesToTheGuestFrameWithTheBitsSetBeforeTheMap() {
        Guest g = fx.guest(1);
        int port = bindIpiAndSend(g);
        assertEquals(0L, g.ram().get(U64, GPFN * PAGE + 0x800), "nothing in the guest frame before the map");
        assertEquals(0, addToPhysmap(g, DOMID_SELF, 0, 0, GPFN));
        assertEquals(1L << port, g.ram().get(U64, GPFN * PAGE + 0x800), "evtchn_pending bit of the port, in guest RAM");
        assertEquals(1, g.ram().get(java.lang.foreign.ValueLayout.JAVA_BYTE, GPFN * PAGE) & 1,
                "vCPU 0's upcall_pending moved along");
        assertEquals(g.ram().address() + GPFN * PAGE, g.d().sharedInfo().address(), "the domain now delivers there");
    }

    @Test
    void eventsAfterTheMapLandInTheGuestFrame() {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, DOMID_SELF, 0, 0, GPFN));
        int port = bindIpiAndSend(g);
        assertEquals(1L << port, g.ram().get(U64, GPFN * PAGE + 0x800));
    }

    @Test
    void aThirtyTwoBitCallerUsesFourByteIdxAndGpfn() {
        Guest g = fx.guest(1, GuestWidth.X86_32, 1);
        int port = bindIpiAndSend(g);
        long at = RAM - 16; // only the 16-byte compat layout fits here
        struct32(g, at, DOMID_SELF, 0, 0, (int) GPFN);
        assertEquals(EFAULT, g.call(MEMORY_OP, ADD_TO_PHYSMAP, at), "a 64-bit caller's struct is 24 bytes");
        assertEquals(0, g.call32(MEMORY_OP, ADD_TO_PHYSMAP, at));
        assertEquals(1 << port, g.ram().get(U32, GPFN * PAGE + 0x800), "the 32-bit evtchn_pending word");
    }

    @Test
    void theOwnDomidWorksLikeDomidSelf() {
        Guest g = fx.guest(5);
        assertEquals(0, addToPhysmap(g, 5, 0, 0, GPFN));
        assertEquals(g.ram().address() + GPFN * PAGE, g.d().sharedInfo().address());
    }

    @Test
    void anotherExistingDomainIsEpermANonexistentOneEsrch() {
        Guest g = fx.guest(1);
        fx.guest(2);
        long before = g.d().sharedInfo().address();
        assertEquals(EPERM, addToPhysmap(g, 2, 0, 0, GPFN), "another guest");
        assertEquals(EPERM, addToPhysmap(g, 0, 0, 0, GPFN), "the host's domain 0");
        assertEquals(ESRCH, addToPhysmap(g, 77, 0, 0, GPFN), "no such domain");
        assertEquals(ESRCH, addToPhysmap(g, 0x7FF1, 0, 0, GPFN), "DOMID_IO is no domain to map into");
        assertEquals(before, g.d().sharedInfo().address(), "shared_info did not move");
    }

    @Test
    void sharedInfoIdxOtherThanZeroIsEinval() {
        Guest g = fx.guest(1);
        long before = g.d().sharedInfo().address();
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 0, 1, GPFN));
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 0, -1L, GPFN));
        assertEquals(before, g.d().sharedInfo().address());
    }

    @Test
    void aGpfnOutsideRamIsEinval() {
        Guest g = fx.guest(1);
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 0, 0, RAM / PAGE));
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 0, 0, -1L));
        assertEquals(0, addToPhysmap(g, DOMID_SELF, 0, 0, RAM / PAGE - 1), "the last frame is fine");
    }

    @Test
    void otherSpacesGetXensAnswerOrEopnotsupp() {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, DOMID_SELF, 1, 0, GPFN), "grant_table: GrantTableOpHandlerTest");
        assertEquals(EOPNOTSUPP, addToPhysmap(g, DOMID_SELF, 2, 3, GPFN), "gmfn");
        assertEquals(EOPNOTSUPP, addToPhysmap(g, DOMID_SELF, 3, 3, GPFN), "gmfn_range");
        assertEquals(ENOSYS, addToPhysmap(g, DOMID_SELF, 4, 3, GPFN), "gmfn_foreign: only through the batch op");
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 5, 0, GPFN), "dev_mmio is Arm's");
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 99, 0, GPFN), "unknown space");
        assertEquals(EINVAL, addToPhysmap(g, DOMID_SELF, 0x8000_0000, 0, GPFN), "unknown space, sign bit set");
    }

    @Test
    void gmfnForeignIsEnosysBeforeTheDomainIsChecked() {
        Guest g = fx.guest(1);
        assertEquals(ENOSYS, addToPhysmap(g, 77, 4, 0, GPFN));
    }

    @Test
    void theDomainIsCheckedBeforeTheSpace() {
        Guest g = fx.guest(1);
        assertEquals(ESRCH, addToPhysmap(g, 77, 99, 0, GPFN));
    }

    @Test
    void aStructOutsideRamIsEfault() {
        Guest g = fx.guest(1);
        assertEquals(EFAULT, g.call(MEMORY_OP, ADD_TO_PHYSMAP, RAM - 23));
        assertEquals(EFAULT, g.call(MEMORY_OP, ADD_TO_PHYSMAP, RAM + 4096));
        assertEquals(EFAULT, g.call(MEMORY_OP, ADD_TO_PHYSMAP, -8L));
    }

    @Test
    void otherSubOpsAreEnosys() {
        Guest g = fx.guest(1);
        struct64(g, ARG, DOMID_SELF, 0, 0, GPFN);
        long before = g.d().sharedInfo().address();
        for (long cmd : new long[] {0, 1, 2, 6, 8, 9, 12, 63}) {
            assertEquals(ENOSYS, g.call(MEMORY_OP, cmd, ARG), "XENMEM " + cmd);
        }
        assertEquals(before, g.d().sharedInfo().address(), "no sub-op mapped shared_info");
    }

    @Test
    void theSubOpIsTheLowSixBitsOfTheCommandAsInXen() {
        Guest g = fx.guest(1);
        struct64(g, ARG, DOMID_SELF, 0, 0, GPFN);
        assertEquals(0, g.call(MEMORY_OP, ADD_TO_PHYSMAP | 1L << 6, ARG), "start extent 1: still add_to_physmap");
        assertEquals(ENOSYS, g.call(MEMORY_OP, 64 + 8, ARG), "64 + 8 is sub-op 8");
    }

    @Test
    void aStartExtentBeyondTheSizeFieldIsRefused() {
        Guest g = fx.guest(1);
        struct64(g, ARG, DOMID_SELF, 0, 0, GPFN);
        long before = g.d().sharedInfo().address();
        assertEquals(EINVAL, g.call(MEMORY_OP, ADD_TO_PHYSMAP | 0x10000L << 6, ARG), "Xen: -EDOM");
        assertEquals(EINVAL, g.call(MEMORY_OP, -1L << 6 | ADD_TO_PHYSMAP, ARG));
        assertEquals(before, g.d().sharedInfo().address());
        assertFalse(before == g.ram().address() + GPFN * PAGE);
    }

    @Test
    void theStructIsReadFromTheCallersMemoryOnly() {
        Guest g = fx.guest(1);
        Guest other = fx.guest(2);
        struct64(other, ARG, DOMID_SELF, 0, 0, GPFN);
        struct64(g, ARG, DOMID_SELF, 0, 0, RAM / PAGE + 5); // dom1's own struct has a gpfn outside RAM
        assertEquals(EINVAL, g.call(MEMORY_OP, ADD_TO_PHYSMAP, ARG));
        assertTrue(other.d().sharedInfo().address() != other.ram().address() + GPFN * PAGE);
    }
}
