package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.DOMID_SELF;
import static xen.evtchn.impl.hypercall.PlatformFixture.EFAULT;
import static xen.evtchn.impl.hypercall.PlatformFixture.EINVAL;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.EPERM;
import static xen.evtchn.impl.hypercall.PlatformFixture.ESRCH;
import static xen.evtchn.impl.hypercall.PlatformFixture.MEMORY_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.RAM;
import static xen.evtchn.impl.hypercall.PlatformFixture.U16;
import static xen.evtchn.impl.hypercall.PlatformFixture.U32;
import static xen.evtchn.impl.hypercall.PlatformFixture.U64;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.grant.HostGrants;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * HYPERVISOR_grant_table_op through the dispatcher, the structs in guest RAM at the reference
 * offsets written out literally (public/grant_table.h): query_size, set_version, get_version and
 * setup_table with Xen's answers, the ops an HVM guest may not use here, and the table's frames
 * put into guest memory by XENMEM_add_to_physmap(XENMAPSPACE_grant_table) as Linux does, where a
 * host backend then finds the guest's grants.
 */
class GrantTableOpHandlerTest {
    private static final int GRANT_TABLE_OP = 20;
    private static final int SETUP_TABLE = 2;
    private static final int QUERY_SIZE = 6;
    private static final int SET_VERSION = 8;
    private static final int GET_VERSION = 10;
    private static final int ADD_TO_PHYSMAP = 7;
    private static final int XENMAPSPACE_GRANT_TABLE = 1;
    private static final short GNTST_GENERAL_ERROR = -1;
    private static final short GNTST_BAD_DOMAIN = -2;
    private static final short GNTST_BAD_VIRT_ADDR = -5;
    private static final short GNTST_PERMISSION_DENIED = -8;
    private static final short GNTST_ADDRESS_TOO_BIG = -11;
    private static final long PAGE = 4096;
    private static final long LIST = 0x6000;

    private final PlatformFixture fx = new PlatformFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    /** query_size for {@code dom}: the hypercall's answer; the struct stays at ARG (16 bytes). */
    private static long querySize(Guest g, int dom) {
        g.fill(ARG, 16, 0x77);
        g.ram().set(U16, ARG, (short) dom);
        return g.call(GRANT_TABLE_OP, QUERY_SIZE, ARG, 1);
    }

    private static short status(Guest g, long offset) {
        return g.ram().get(U16, ARG + offset);
    }

    private static long addToPhysmap(Guest g, long idx, long gpfn) {
        MemorySegment s = g.at(0x5000, 24);
        s.set(U16, 0, (short) DOMID_SELF);
        s.set(U16, 2, (short) 0);
        s.set(U32, 4, XENMAPSPACE_GRANT_TABLE);
        s.set(U64, 8, idx);
        s.set(U64, 16, gpfn);
        return g.call(MEMORY_OP, ADD_TO_PHYSMAP, 0x5000);
    }

    /** A 64-bit caller's setup_table at ARG: dom, nr_frames, frame_list at LIST. */
    private static long setupTable(Guest g, int dom, int nrFrames) {
        MemorySegment s = g.at(ARG, 24);
        s.fill((byte) 0x77);
        s.set(U16, 0, (short) dom);
        s.set(U32, 4, nrFrames);
        s.set(U64, 16, LIST);
        return g.call(GRANT_TABLE_OP, SETUP_TABLE, ARG, 1);
    }

    @Test
    void querySizeAnswersOneFrameOfSixtyFour() {
        Guest g = fx.guest(1);
        assertEquals(0, querySize(g, DOMID_SELF));
        assertEquals(1, g.ram().get(U32, ARG + 4), "nr_frames");
        assertEquals(64, g.ram().get(U32, ARG + 8), "max_nr_frames");
        assertEquals(0, status(g, 12), "GNTST_okay");
        assertEquals(0, querySize(g, 1), "the own id");
        assertEquals(0, status(g, 12));
    }

    @Test
    void querySizeOfAnotherDomainIsAStatusNotAnErrno() {
        Guest g = fx.guest(1);
        fx.guest(2);
        assertEquals(0, querySize(g, 2));
        assertEquals(GNTST_PERMISSION_DENIED, status(g, 12), "XSM refuses another guest's table");
        assertEquals(0x77777777, g.ram().get(U32, ARG + 4), "nr_frames not written");
        assertEquals(0, querySize(g, 0));
        assertEquals(GNTST_PERMISSION_DENIED, status(g, 12), "nor the host's");
        assertEquals(0, querySize(g, 77));
        assertEquals(GNTST_BAD_DOMAIN, status(g, 12), "no such domain");
    }

    @Test
    void querySizeAndSetupTableTakeOneStructAtATime() {
        Guest g = fx.guest(1);
        g.ram().set(U16, ARG, (short) DOMID_SELF);
        assertEquals(EINVAL, g.call(GRANT_TABLE_OP, QUERY_SIZE, ARG, 2));
        assertEquals(EINVAL, g.call(GRANT_TABLE_OP, QUERY_SIZE, ARG, 0));
        assertEquals(EINVAL, g.call(GRANT_TABLE_OP, SETUP_TABLE, ARG, 2));
        assertEquals(EINVAL, g.call(GRANT_TABLE_OP, QUERY_SIZE, ARG, 0xFFFF_FFFFL), "a negative count");
        assertEquals(EINVAL, g.call(GRANT_TABLE_OP, SET_VERSION, ARG, -1L), "a negative count, any op");
    }

    @Test
    void structsOutsideGuestMemoryAreEfault() {
        Guest g = fx.guest(1);
        assertEquals(EFAULT, g.call(GRANT_TABLE_OP, QUERY_SIZE, RAM - 15, 1));
        assertEquals(EFAULT, g.call(GRANT_TABLE_OP, SETUP_TABLE, RAM - 23, 1));
        assertEquals(EFAULT, g.call(GRANT_TABLE_OP, SET_VERSION, RAM - 3, 1));
        assertEquals(EFAULT, g.call(GRANT_TABLE_OP, GET_VERSION, RAM - 7, 1));
        g.ram().set(U32, RAM - 4, 1);
        assertEquals(0, g.call(GRANT_TABLE_OP, SET_VERSION, RAM - 4, 1), "the last 4 bytes are fine");
    }

    @Test
    void setVersionKeepsVersionOneAndWritesItBack() {
        Guest g = fx.guest(1);
        for (int[] c : new int[][] {{1, 0}, {2, ENOSYS}, {0, EINVAL}, {3, EINVAL}, {-1, EINVAL}}) {
            g.ram().set(U32, ARG, c[0]);
            assertEquals(c[1], g.call(GRANT_TABLE_OP, SET_VERSION, ARG, 1), "version " + c[0]);
            assertEquals(1, g.ram().get(U32, ARG), "the version in force, written back after " + c[0]);
        }
    }

    @Test
    void getVersionAnswersOneForTheCallerAndErrnosForOthers() {
        Guest g = fx.guest(1);
        fx.guest(2);
        g.ram().set(U16, ARG, (short) DOMID_SELF);
        g.ram().set(U32, ARG + 4, 99);
        assertEquals(0, g.call(GRANT_TABLE_OP, GET_VERSION, ARG, 1));
        assertEquals(1, g.ram().get(U32, ARG + 4));
        g.ram().set(U16, ARG, (short) 2);
        assertEquals(EPERM, g.call(GRANT_TABLE_OP, GET_VERSION, ARG, 1));
        g.ram().set(U16, ARG, (short) 77);
        assertEquals(ESRCH, g.call(GRANT_TABLE_OP, GET_VERSION, ARG, 1));
    }

    @Test
    void setupTableGrowsTheTableAndListsEachFramesGuestFrame() {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, 1, 0x40));
        g.fill(LIST, 32, 0x77);
        assertEquals(0, setupTable(g, DOMID_SELF, 3));
        assertEquals(0, status(g, 8));
        assertEquals(-1L, g.ram().get(U64, LIST), "frame 0 is in no guest frame: INVALID_GFN");
        assertEquals(0x40L, g.ram().get(U64, LIST + 8), "frame 1 where the guest mapped it");
        assertEquals(-1L, g.ram().get(U64, LIST + 16));
        assertEquals(0x7777777777777777L, g.ram().get(U64, LIST + 24), "nothing past nr_frames");
        assertEquals(0, querySize(g, DOMID_SELF));
        assertEquals(3, g.ram().get(U32, ARG + 4), "nr_frames grew");
        assertEquals(0, setupTable(g, DOMID_SELF, 1));
        assertEquals(0, querySize(g, DOMID_SELF));
        assertEquals(3, g.ram().get(U32, ARG + 4), "and never shrinks");
    }

    @Test
    void setupTableErrorsAreStatuses() {
        Guest g = fx.guest(1);
        fx.guest(2);
        assertEquals(0, setupTable(g, DOMID_SELF, 65));
        assertEquals(GNTST_GENERAL_ERROR, status(g, 8), "beyond max_nr_frames");
        assertEquals(0, setupTable(g, DOMID_SELF, -1));
        assertEquals(GNTST_GENERAL_ERROR, status(g, 8), "nr_frames is unsigned");
        assertEquals(0, setupTable(g, 2, 1));
        assertEquals(GNTST_PERMISSION_DENIED, status(g, 8));
        assertEquals(0, setupTable(g, 77, 1));
        assertEquals(GNTST_BAD_DOMAIN, status(g, 8));
        g.ram().set(U64, ARG + 16, RAM - 8);
        g.ram().set(U16, ARG, (short) DOMID_SELF);
        g.ram().set(U32, ARG + 4, 2);
        assertEquals(0, g.call(GRANT_TABLE_OP, SETUP_TABLE, ARG, 1));
        assertEquals(GNTST_BAD_VIRT_ADDR, status(g, 8), "the list's second frame lies outside RAM");
        assertEquals(2, g.ram().get(U32, ARG + 4), "nr_frames kept");
        assertEquals(RAM - 8, g.ram().get(U64, ARG + 16), "frame_list kept");
        assertEquals(0, querySize(g, DOMID_SELF));
        assertEquals(2, g.ram().get(U32, ARG + 4), "the table grew before the list was written, as in Xen");
    }

    @Test
    void aThirtyTwoBitCallerGetsFourByteFramesAndAddressTooBigForInvalidGfn() {
        Guest g = fx.guest(1, GuestWidth.X86_32, 1);
        assertEquals(0, addToPhysmap(g, 0, 0x41));
        MemorySegment s = g.at(ARG, 16);
        s.fill((byte) 0x77);
        s.set(U16, 0, (short) DOMID_SELF);
        s.set(U32, 4, 2);
        s.set(U32, 12, (int) LIST);
        g.fill(LIST, 16, 0x55);
        assertEquals(0, g.call32(GRANT_TABLE_OP, SETUP_TABLE, ARG, 1));
        assertEquals(GNTST_ADDRESS_TOO_BIG, status(g, 8), "frame 1 is INVALID_GFN, which 4 bytes cannot hold");
        assertEquals(0x41, g.ram().get(U32, LIST), "frame 0 written");
        assertEquals(0x55555555, g.ram().get(U32, LIST + 4), "frame 1 not");
        assertEquals((int) LIST, g.ram().get(U32, ARG + 12), "frame_list kept");
    }

    @Test
    void opsAGuestMayNotUseHereAreEnosys() {
        Guest g = fx.guest(1);
        g.fill(ARG, 64, 0);
        for (long cmd : new long[] {0, 1, 3, 4, 5, 7, 9, 11, 12, 13, 1L << 12 | QUERY_SIZE}) {
            assertEquals(ENOSYS, g.call(GRANT_TABLE_OP, cmd, ARG, 1), "GNTTABOP " + cmd);
        }
        assertEquals(0, querySize(g, DOMID_SELF), "the high 32 bits of cmd are not the guest's");
        assertEquals(0, g.call(GRANT_TABLE_OP, 1L << 32 | QUERY_SIZE, ARG, 1));
    }

    @Test
    void addToPhysmapPutsTableFramesWhereTheGuestAsksAndGrowsTheTable() {
        Guest g = fx.guest(1);
        g.fill(0x40 * PAGE, PAGE, 0x99);
        assertEquals(0, addToPhysmap(g, 0, 0x40));
        assertArrayEquals(new byte[(int) PAGE], g.bytes(0x40 * PAGE, (int) PAGE), "a new table frame is all invalid entries");
        assertEquals(0, addToPhysmap(g, 63, 0x41), "the last frame");
        assertEquals(0, querySize(g, DOMID_SELF));
        assertEquals(64, g.ram().get(U32, ARG + 4));
        assertEquals(EINVAL, addToPhysmap(g, 64, 0x42), "beyond max_nr_frames");
        assertEquals(EINVAL, addToPhysmap(g, -1L, 0x42));
        assertEquals(EINVAL, addToPhysmap(g, 1, 1L << 40), "beyond the guest's physical address width: no page there");
    }

    @Test
    void aTableFrameMovesWithItsEntriesAndAFrameMappedOverItKeepsThem() throws Exception {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, 0, 0x40));
        grant(g, 0x40, 5, 0x30, false);
        assertEquals(0, addToPhysmap(g, 0, 0x42));
        assertEquals(0x30, g.ram().get(U32, 0x42 * PAGE + 5 * 8 + 4), "entry 5 moved along");
        assertEquals(0, addToPhysmap(g, 1, 0x42), "frame 1 over frame 0");
        assertArrayEquals(new byte[(int) PAGE], g.bytes(0x42 * PAGE, (int) PAGE), "frame 1 is empty");
        assertEquals(0, addToPhysmap(g, 0, 0x43));
        assertEquals(0x30, g.ram().get(U32, 0x43 * PAGE + 5 * 8 + 4), "frame 0 came back with its entries");
        try (GrantMapping m = backend().map(1, 5, false)) {
            assertEquals(g.ram().address() + 0x30 * PAGE, m.page().address());
        }
    }

    @Test
    void aHostBackendMapsWhatTheGuestGrantedThroughItsTable() throws Exception {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, 0, 0x40));
        grant(g, 0x40, 8, 0x30, false);
        g.ram().set(U64, 0x30 * PAGE + 16, 0xFEEDL);
        try (GrantMapping m = backend().map(1, 8, true)) {
            assertEquals(0xFEEDL, m.page().get(U64, 16));
            m.page().set(U64, 24, 0xBEEFL);
            assertEquals(1 | 1 << 3 | 1 << 4, g.ram().get(U16, 0x40 * PAGE + 8 * 8), "GTF_reading|GTF_writing in the guest's entry");
        }
        assertEquals(0xBEEFL, g.ram().get(U64, 0x30 * PAGE + 24), "the backend wrote the guest's frame");
        assertEquals(1, g.ram().get(U16, 0x40 * PAGE + 8 * 8), "cleared again on unmap");
        GrantException e = assertThrows(GrantException.class, () -> backend().map(1, 512, false));
        assertEquals(-3, e.status(), "frame 0 holds refs 0..511");
    }

    /** A frame far above the guest's 1 MiB: a hole, as Linux's unpopulated-alloc picks one. */
    private static final long HOLE = 0x8000;

    @Test
    void aTableFrameInAHoleGetsAPageThereWhereTheGuestAndAHostBackendFindTheEntries() throws Exception {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, 0, HOLE), "Linux's unpopulated-alloc frame");
        MemorySegment frame = g.memory().page(HOLE);
        assertArrayEquals(new byte[(int) PAGE], frame.toArray(ValueLayout.JAVA_BYTE), "all invalid entries");
        // the guest writes entry 8 in the hole, a backend maps it
        frame.set(U32, 8 * 8 + 4, 0x30);
        frame.set(U16, 8 * 8, (short) 1);
        g.ram().set(U64, 0x30 * PAGE, 0xFEEDL);
        try (GrantMapping m = backend().map(1, 8, true)) {
            assertEquals(0xFEEDL, m.page().get(U64, 0));
            assertEquals(1 | 1 << 3 | 1 << 4, frame.get(U16, 8 * 8), "GTF_reading|GTF_writing in the entry in the hole");
        }
        assertEquals(1, frame.get(U16, 8 * 8), "cleared on unmap");
        // a hypercall struct the guest passes in the hole is found there too
        long struct = HOLE * PAGE + 0x800;
        g.memory().slice(struct, 16).fill((byte) 0x77);
        g.memory().slice(struct, 2).set(U16, 0, (short) DOMID_SELF);
        assertEquals(0, g.call(GRANT_TABLE_OP, QUERY_SIZE, struct, 1));
        assertEquals(1, g.memory().slice(struct, 16).get(U32, 4), "nr_frames written in the hole");
    }

    @Test
    void aFrameLeavingAHoleTakesItsEntriesAlongAndTheHoleIsAHoleAgain() throws Exception {
        Guest g = fx.guest(1);
        assertEquals(0, addToPhysmap(g, 0, HOLE));
        g.memory().page(HOLE).set(U32, 5 * 8 + 4, 0x30);
        g.memory().page(HOLE).set(U16, 5 * 8, (short) 1);
        assertEquals(0, addToPhysmap(g, 0, 0x40), "into RAM");
        assertEquals(0x30, g.ram().get(U32, 0x40 * PAGE + 5 * 8 + 4), "entry 5 moved along");
        assertNull(g.memory().page(HOLE), "the hole's page is gone");
        assertEquals(0, addToPhysmap(g, 0, HOLE + 1), "into another hole");
        assertEquals(0x30, g.memory().page(HOLE + 1).get(U32, 5 * 8 + 4));
        // frame 1 over frame 0 in the hole: the page stays, frame 1's now; frame 0's entries kept by the host
        assertEquals(0, addToPhysmap(g, 1, HOLE + 1));
        assertEquals(0, g.memory().page(HOLE + 1).get(U32, 5 * 8 + 4), "frame 1 is empty");
        try (GrantMapping m = backend().map(1, 5, false)) {
            assertEquals(g.ram().address() + 0x30 * PAGE, m.page().address(), "frame 0's entry still grants");
        }
        assertEquals(0, addToPhysmap(g, 1, 0x41), "frame 1 leaves the hole");
        assertNull(g.memory().page(HOLE + 1), "and it is a hole again");
        assertEquals(0, addToPhysmap(g, 0, HOLE + 2));
        assertEquals(0x30, g.memory().page(HOLE + 2).get(U32, 5 * 8 + 4), "frame 0 came back with its entries");
    }

    /** The guest's v1 entry {@code ref} in the table frame at {@code tableGpfn}: permit_access to dom0. */
    private static void grant(Guest g, long tableGpfn, int ref, int frame, boolean readonly) {
        long at = tableGpfn * PAGE + ref * 8L;
        g.ram().set(U32, at + 4, frame);
        g.ram().set(U16, at + 2, (short) 0);
        g.ram().set(U16, at, (short) (1 | (readonly ? 1 << 2 : 0)));
    }

    private HostGrants backend() {
        return new HostGrants(domid -> {
            Domain d = fx.platforms.get(domid);
            return d == null ? null : new HostGrants.Guest(d.grants(), d.events().vcpus().memory());
        });
    }
}
