package xen.evtchn.impl.grant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;

/**
 * The host backends' grant calls (map, unmap, copy) on one guest's version 1 table, the entries
 * written as a guest writes them (public/grant_table.h, literal offsets and flags): valid, revoked,
 * wrong-domid, read-only and out-of-range references, an entry the guest changes while it is
 * mapped, and no byte read or written outside the granted frame.
 */
class HostGrantsTest {
    private static final int PAGE = 4096;
    private static final long RAM = 64 * PAGE;
    private static final long TABLE = 0x10;
    private static final int GRANTED = 0x20;
    private static final int DOMID = 1;
    private static final int PERMIT = 1;
    private static final int READONLY = 1 << 2;
    private static final int READING = 1 << 3;
    private static final int WRITING = 1 << 4;
    private static final int GENERAL_ERROR = -1;
    private static final int BAD_DOMAIN = -2;
    private static final int BAD_GNTREF = -3;
    private static final int BAD_PAGE = -9;
    private static final int BAD_COPY_ARG = -10;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final MemorySegment ram = arena.allocate(RAM, PAGE);
    private final GuestMemory memory = () -> ram;
    private final GrantTable table = new GrantTable(memory);
    private final HostGrants grants = new HostGrants(d -> d == DOMID ? new HostGrants.Guest(table, memory) : null);

    HostGrantsTest() {
        assertEquals(0, table.mapFrame(0, TABLE));
        for (int i = 0; i < PAGE; i++) {
            ram.set(ValueLayout.JAVA_BYTE, (long) GRANTED * PAGE + i, (byte) i);
        }
    }

    @AfterEach
    void close() {
        arena.close();
    }

    /** The guest writes entry {@code ref}: frame and domid first, then the flags, as Linux does. */
    private void entry(int ref, int flags, int domid, int frame) {
        long at = TABLE * PAGE + ref * 8L;
        ram.set(U32, at + 4, frame);
        ram.set(U16, at + 2, (short) domid);
        ram.set(U16, at, (short) flags);
    }

    private int flags(int ref) {
        return Short.toUnsignedInt(ram.get(U16, TABLE * PAGE + ref * 8L));
    }

    private static void assertStatus(int status, Executable call, String what) {
        assertEquals(status, assertThrows(GrantException.class, call, what).status(), what);
    }

    @Test
    void aWritableMapIsTheGuestsFrameMarkedReadingAndWritingUntilUnmapped() throws Exception {
        entry(3, PERMIT, 0, GRANTED);
        GrantMapping m = grants.map(DOMID, 3, true);
        assertEquals(ram.address() + (long) GRANTED * PAGE, m.page().address());
        assertEquals(PAGE, m.page().byteSize());
        assertEquals(PERMIT | READING | WRITING, flags(3));
        m.page().set(ValueLayout.JAVA_BYTE, 9, (byte) 0x5A);
        assertEquals(0x5A, ram.get(ValueLayout.JAVA_BYTE, (long) GRANTED * PAGE + 9), "the guest sees the write");
        m.close();
        assertEquals(PERMIT, flags(3), "the guest may end the grant now");
        assertThrows(IllegalStateException.class, m::page, "no page after unmap");
        m.close();
        assertEquals(0, table.pinCount(3), "a second close changes nothing");
    }

    @Test
    void aReadOnlyMapReadsAndCannotWrite() throws Exception {
        entry(4, PERMIT | READONLY, 0, GRANTED);
        try (GrantMapping m = grants.map(DOMID, 4, false)) {
            assertTrue(m.page().isReadOnly());
            assertEquals(7, m.page().get(ValueLayout.JAVA_BYTE, 7));
            assertEquals(PERMIT | READONLY | READING, flags(4), "reading only");
            assertThrows(IllegalArgumentException.class, () -> m.page().set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertEquals(0, ram.get(ValueLayout.JAVA_BYTE, (long) GRANTED * PAGE));
        }
        assertEquals(PERMIT | READONLY, flags(4));
    }

    @Test
    void aReadOnlyGrantIsRefusedForWritingAndLeftAsItWas() {
        entry(5, PERMIT | READONLY, 0, GRANTED);
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 5, true), "map for writing");
        assertStatus(GENERAL_ERROR, () -> grants.copyTo(DOMID, 5, 0, MemorySegment.ofArray(new byte[8])), "copy into it");
        assertEquals(PERMIT | READONLY, flags(5));
        assertEquals(0, ram.get(ValueLayout.JAVA_BYTE, (long) GRANTED * PAGE), "nothing written");
    }

    @Test
    void aRevokedGrantIsRefusedAndNeverRead() throws Exception {
        entry(6, PERMIT, 0, GRANTED);
        grants.map(DOMID, 6, false).close();
        entry(6, 0, 0, GRANTED); // the guest ends the grant (gnttab_end_foreign_access)
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 6, false), "map");
        byte[] buffer = new byte[16];
        assertStatus(GENERAL_ERROR, () -> grants.copyFrom(DOMID, 6, 0, MemorySegment.ofArray(buffer)), "copy");
        assertArrayEquals(new byte[16], buffer, "not a byte of the frame read");
        assertEquals(0, flags(6), "the entry stays revoked");
        entry(7, 2, 0, GRANTED); // GTF_accept_transfer is no access grant
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 7, false), "a transfer entry");
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 8, false), "an entry never written");
    }

    @Test
    void aGrantToAnotherDomainIsRefused() {
        entry(9, PERMIT, 2, GRANTED);
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 9, false), "granted to dom2, not to the host");
        assertStatus(GENERAL_ERROR, () -> grants.copyFrom(DOMID, 9, 0, MemorySegment.ofArray(new byte[4])), "copy");
        assertEquals(PERMIT, flags(9), "no flag set on a refused entry");
    }

    @Test
    void referencesOutsideTheTableAndDomainsThatAreNotAreRefused() {
        entry(10, PERMIT, 0, GRANTED);
        assertStatus(BAD_GNTREF, () -> grants.map(DOMID, 512, false), "one frame holds 512 entries");
        assertStatus(BAD_GNTREF, () -> grants.map(DOMID, -1, false), "0xFFFFFFFF");
        assertStatus(BAD_GNTREF, () -> grants.copyFrom(DOMID, Integer.MIN_VALUE, 0, MemorySegment.ofArray(new byte[4])), "copy");
        assertStatus(BAD_DOMAIN, () -> grants.map(2, 10, false), "no such guest");
        assertTrue(table.grow(2));
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 512, false), "in range now, in a frame of invalid entries");
    }

    @Test
    void aGrantedFrameOutsideGuestMemoryIsBadPageAndTheFlagsAreCleared() {
        entry(11, PERMIT, 0, (int) (RAM / PAGE));
        assertStatus(BAD_PAGE, () -> grants.map(DOMID, 11, true), "frame past RAM");
        assertEquals(PERMIT, flags(11));
        assertEquals(0, table.pinCount(11));
    }

    @Test
    void anEntryChangedByTheGuestWhileMappedKeepsThePinnedFrame() throws Exception {
        entry(12, PERMIT, 0, GRANTED);
        try (GrantMapping first = grants.map(DOMID, 12, false)) {
            // the guest points the entry elsewhere and drops the access bit, keeping Xen's flags
            ram.set(U32, TABLE * PAGE + 12 * 8L + 4, GRANTED + 1);
            ram.set(U16, TABLE * PAGE + 12 * 8L, (short) READING);
            try (GrantMapping second = grants.map(DOMID, 12, false)) {
                assertEquals(first.page().address(), second.page().address(), "the frame pinned by the first map, as Xen's active entry");
                assertEquals(2, table.pinCount(12));
            }
            assertEquals(READING, flags(12), "still mapped once: GTF_reading stays");
            try (GrantMapping writer = grants.map(DOMID, 12, true)) {
                assertEquals(first.page().address(), writer.page().address(), "pinned: Xen checks only GTF_readonly now");
                assertEquals(READING | WRITING, flags(12));
            }
            assertEquals(READING, flags(12), "the last writer gone: GTF_writing cleared");
            ram.set(U16, TABLE * PAGE + 12 * 8L, (short) (READING | READONLY));
            assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 12, true), "made read-only while mapped");
            ram.set(U16, TABLE * PAGE + 12 * 8L, (short) READING);
        }
        assertEquals(0, flags(12), "all unmapped: GTF_reading cleared, the guest's change kept");
        assertStatus(GENERAL_ERROR, () -> grants.map(DOMID, 12, false), "and now it is refused");
    }

    @Test
    void theGuestCannotEndAGrantWhileItIsMapped() throws Exception {
        entry(13, PERMIT, 0, GRANTED);
        try (GrantMapping m = grants.map(DOMID, 13, true)) {
            // Linux's gnttab_end_foreign_access_ref_v1: cmpxchg of flags without reading/writing to 0
            // (a 16-bit cmpxchg there; the 32-bit word with domid 0 here, which the JDK can swap)
            long at = TABLE * PAGE + 13 * 8L;
            int expected = flags(13) & ~(READING | WRITING);
            boolean ended = (int) ValueLayout.JAVA_INT.varHandle().compareAndExchange(ram, at, expected, 0) == expected;
            assertFalse(ended, "the flags show the mapping");
            assertEquals(PERMIT | READING | WRITING, flags(13));
        }
    }

    @Test
    void copiesMoveBytesWithinTheGrantedFrameAndReleaseTheEntry() throws Exception {
        entry(14, PERMIT, 0, GRANTED);
        byte[] in = new byte[8];
        grants.copyFrom(DOMID, 14, 100, MemorySegment.ofArray(in));
        assertArrayEquals(new byte[] {100, 101, 102, 103, 104, 105, 106, 107}, in);
        grants.copyTo(DOMID, 14, PAGE - 4, MemorySegment.ofArray(new byte[] {1, 2, 3, 4}));
        assertEquals(0x04030201, ram.get(U32, (long) GRANTED * PAGE + PAGE - 4));
        assertEquals(PERMIT, flags(14), "no flag left after a copy");
        assertEquals(0, table.pinCount(14));
    }

    @Test
    void aCopyLeavingThePageIsBadCopyArgAndTouchesNothingOutsideIt() {
        entry(15, PERMIT, 0, GRANTED);
        byte[] buffer = new byte[200];
        assertStatus(BAD_COPY_ARG, () -> grants.copyFrom(DOMID, 15, PAGE - 100, MemorySegment.ofArray(buffer)), "past the end");
        assertArrayEquals(new byte[200], buffer, "nothing read, not even the part inside the frame");
        assertStatus(BAD_COPY_ARG, () -> grants.copyFrom(DOMID, 15, -1, MemorySegment.ofArray(buffer)), "before the start");
        byte[] next = new byte[8];
        MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, (long) (GRANTED + 1) * PAGE, next, 0, 8);
        assertStatus(BAD_COPY_ARG, () -> grants.copyTo(DOMID, 15, PAGE - 4, MemorySegment.ofArray(new byte[8])), "write past the end");
        byte[] after = new byte[8];
        MemorySegment.copy(ram, ValueLayout.JAVA_BYTE, (long) (GRANTED + 1) * PAGE, after, 0, 8);
        assertArrayEquals(next, after, "the next frame untouched");
        assertEquals(0xFFFEFDFC, ram.get(U32, (long) GRANTED * PAGE + PAGE - 4), "the granted frame untouched too");
        assertEquals(PERMIT, flags(15), "the pin ended");
    }

    @Test
    void aMapByTheEntryOfAFrameTheGuestMovedFollowsTheMove() throws Exception {
        entry(16, PERMIT, 0, GRANTED);
        assertEquals(0, table.mapFrame(0, TABLE + 1));
        try (GrantMapping m = grants.map(DOMID, 16, true)) {
            assertEquals(PERMIT | READING | WRITING, Short.toUnsignedInt(ram.get(U16, (TABLE + 1) * PAGE + 16 * 8L)),
                    "marked in the table frame where it is now");
            assertEquals(PERMIT, flags(16), "not in the stale copy left behind");
        }
    }

    @Test
    void anEntryOfAFrameTakenOutOfGuestMemoryStillGrants() throws Exception {
        entry(17, PERMIT, 0, GRANTED);
        assertEquals(0, table.mapFrame(1, TABLE), "frame 1 over frame 0: frame 0's entries leave guest memory");
        try (GrantMapping m = grants.map(DOMID, 17, true)) {
            assertEquals(ram.address() + (long) GRANTED * PAGE, m.page().address(), "Xen keeps such frames and their grants");
            assertEquals(0, flags(17), "guest memory holds frame 1's empty entry there now");
        }
        assertEquals(0, table.mapFrame(0, TABLE + 2));
        assertEquals(PERMIT, Short.toUnsignedInt(ram.get(U16, (TABLE + 2) * PAGE + 17 * 8L)), "back with its entry, the pin's flags cleared");
    }
}
