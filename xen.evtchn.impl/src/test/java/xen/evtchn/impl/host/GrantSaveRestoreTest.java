package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.grant.GrantTable;
import xen.evtchn.impl.grant.GrantTableImage;
import xen.evtchn.impl.grant.HostGrants;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.OldStreams;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * The grant table across a save and restore: its frames in RAM and on an extra page in a hole
 * come back where the guest put them, with its entries; the host's backends map and copy grants
 * after the restore; the pins of the old host do not travel. A stream without the table gives a
 * new one; frames the new backend cannot back are refused with nothing left.
 */
class GrantSaveRestoreTest {
    static final int PAGE = 4096;
    static final int VCPUS = 1;
    static final long RAM = 1L << 20;
    static final long TABLE_GFN = 0x20;
    /** Beyond RAM: the table frame there is an extra page. */
    static final long HOLE_GFN = 0x1000;
    static final long DATA_GFN = 0x30;
    static final long OTHER_DATA_GFN = 0x31;
    static final int REF = 3;
    static final int HOLE_REF = GrantEntry.PER_FRAME + 7;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final XenHost a = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
    final XenHost b = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
    final List<SoftwareBackend> backends = new ArrayList<>();

    @AfterEach
    void tearDown() {
        backends.forEach(SoftwareBackend::close);
    }

    SoftwareBackend backend(XenHost host, int domid, long ram) {
        return backend(host, domid, ram, VCPUS);
    }

    SoftwareBackend backend(XenHost host, int domid, long ram, int vcpus) {
        SoftwareBackend s = new SoftwareBackend(domid, vcpus, ram, host.dispatcher());
        backends.add(s);
        return s;
    }

    static Domain domain(XenHost host, int domid, SoftwareBackend vcpus) {
        return host.createDomain(domid, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
    }

    static HostGrants grants(XenHost host) {
        return new HostGrants(domid -> {
            Domain d = host.domains().get(domid);
            return d == null ? null : new HostGrants.Guest(d.grants(), d.events().vcpus().memory());
        });
    }

    /** The guest writes entry {@code ref} of the frame at {@code table}: frame and domid first, then the flags, as Linux does. */
    static void grant(MemorySegment table, int ref, int flags, long frame) {
        long at = (long) (ref % GrantEntry.PER_FRAME) * GrantEntry.SIZE;
        table.set(U32, at + GrantEntry.FRAME, (int) frame);
        table.set(U16, at + 2, (short) 0);
        table.set(U16, at, (short) flags);
    }

    static int flags(MemorySegment table, int ref) {
        return Short.toUnsignedInt(table.get(U16, (long) (ref % GrantEntry.PER_FRAME) * GrantEntry.SIZE));
    }

    /** A domain with frame 0 of its table in RAM, frame 1 on an extra page, a grant in each, the first mapped by a backend. */
    byte[] savedWithGrants(SoftwareBackend vcpusA) throws GrantException {
        Domain p = domain(a, 3, vcpusA);
        assertEquals(0, p.grants().mapFrame(0, TABLE_GFN));
        assertEquals(0, p.grants().mapFrame(1, HOLE_GFN));
        assertTrue(p.grants().onExtraPage(1));
        grant(vcpusA.memory().page(TABLE_GFN), REF, GrantEntry.GTF_PERMIT_ACCESS, DATA_GFN);
        grant(vcpusA.memory().page(HOLE_GFN), HOLE_REF, GrantEntry.GTF_PERMIT_ACCESS | GrantEntry.GTF_READONLY,
                OTHER_DATA_GFN);
        vcpusA.memory().page(OTHER_DATA_GFN).set(ValueLayout.JAVA_BYTE, 100, (byte) 0x5A);
        GrantMapping held = grants(a).map(3, REF, true); // still mapped at the save
        held.page().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x77);
        assertEquals(GrantEntry.GTF_PERMIT_ACCESS | GrantEntry.GTF_READING | GrantEntry.GTF_WRITING,
                flags(vcpusA.memory().page(TABLE_GFN), REF), "pinned at the save");
        return SaveStream.write(a.save(3));
    }

    @Test
    void theTableComesBackInRamAndInItsHoleAndBackendsMapAfterTheRestore() throws GrantException {
        SoftwareBackend vcpusA = backend(a, 3, RAM);
        byte[] stream = savedWithGrants(vcpusA);
        GrantTableImage saved = SaveStream.read(stream).grants();
        assertArrayEquals(new long[] {TABLE_GFN, HOLE_GFN}, saved.gpfns());
        assertArrayEquals(new int[] {REF}, saved.pinnedRefs());
        assertTrue(a.destroyDomain(3));

        SoftwareBackend vcpusB = backend(b, 5, RAM);
        vcpusB.memory().ram().copyFrom(vcpusA.memory().ram()); // what a VMM's migration does
        Domain p = b.restoreDomain(5, SaveStream.read(stream), vcpusB, DomainConsole.inMemory());
        GrantTable t = p.grants();
        assertEquals(2, t.nrFrames());
        assertEquals(TABLE_GFN, t.gpfn(0));
        assertEquals(HOLE_GFN, t.gpfn(1));
        assertFalse(t.onExtraPage(0));
        assertTrue(t.onExtraPage(1), "an extra page in the hole again");
        MemorySegment hole = vcpusB.memory().extraPage(HOLE_GFN);
        assertNotNull(hole);
        assertEquals(GrantEntry.GTF_PERMIT_ACCESS | GrantEntry.GTF_READONLY, flags(hole, HOLE_REF), "the hole's entry came back");
        assertEquals(OTHER_DATA_GFN, Integer.toUnsignedLong(hole.get(U32,
                (long) (HOLE_REF % GrantEntry.PER_FRAME) * GrantEntry.SIZE + GrantEntry.FRAME)));
        assertEquals(GrantEntry.GTF_PERMIT_ACCESS, flags(vcpusB.memory().page(TABLE_GFN), REF),
                "the old host's pin did not travel: GTF_reading and GTF_writing are cleared");
        assertEquals(0, t.pinCount(REF));

        HostGrants backendB = grants(b);
        try (GrantMapping m = backendB.map(5, REF, true)) {
            assertEquals(0x77, m.page().get(ValueLayout.JAVA_BYTE, 0), "the granted frame, copied with RAM");
            m.page().set(ValueLayout.JAVA_BYTE, 1, (byte) 0x42);
            assertEquals(1, t.pinCount(REF));
        }
        assertEquals(0x42, vcpusB.memory().page(DATA_GFN).get(ValueLayout.JAVA_BYTE, 1), "written into the new host's guest");
        MemorySegment buffer = MemorySegment.ofArray(new byte[1]);
        backendB.copyFrom(5, HOLE_REF, 100, buffer);
        assertEquals(0x5A, buffer.get(ValueLayout.JAVA_BYTE, 0), "a grant in the hole's frame copies");
        assertEquals(GrantStatus.GENERAL_ERROR, assertThrows(GrantException.class,
                () -> backendB.map(5, HOLE_REF, true)).status(), "still read-only");
        grant(hole, HOLE_REF + 1, GrantEntry.GTF_PERMIT_ACCESS, DATA_GFN); // the guest grants anew in the hole
        try (GrantMapping m = backendB.map(5, HOLE_REF + 1, false)) {
            assertEquals(0x42, m.page().get(ValueLayout.JAVA_BYTE, 1));
        }
        assertEquals(GrantEntry.GTF_PERMIT_ACCESS, flags(vcpusB.memory().page(TABLE_GFN), REF), "unmapped");

        byte[] again = SaveStream.write(b.save(5));
        assertArrayEquals(new long[] {TABLE_GFN, HOLE_GFN}, SaveStream.read(again).grants().gpfns(), "saved again");
        assertTrue(b.destroyDomain(5));
    }

    @Test
    void aStreamWithoutTheTableRestoresANewOne() {
        SoftwareBackend vcpusA = backend(a, 3, RAM);
        domain(a, 3, vcpusA);
        byte[] stream = SaveStream.write(a.save(3));
        assertNull(SaveStream.read(stream).grants(), "a new domain's table is not written");
        for (byte[] s : List.of(stream, OldStreams.stream("v1-every-kind"), OldStreams.stream("v2-fifo"))) {
            DomainImage image = SaveStream.read(s);
            XenHost host = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
            Domain p = host.restoreDomain(6, image, backend(host, 6, RAM, image.vcpus()), DomainConsole.inMemory());
            assertEquals(GrantTable.INITIAL_FRAMES, p.grants().nrFrames());
            assertEquals(GrantTable.UNMAPPED, p.grants().gpfn(0));
            assertNull(p.grants().save(), "as a new domain's");
        }
    }

    @Test
    void framesTheBackendCannotBackAreRefusedWithNothingLeft() throws GrantException {
        SoftwareBackend vcpusA = backend(a, 3, RAM);
        DomainImage image = SaveStream.read(savedWithGrants(vcpusA));

        SoftwareBackend small = backend(b, 5, TABLE_GFN / 2 * PAGE); // frame 0 of the table lies beyond its RAM (and special frames)
        String m = assertThrows(SaveStreamException.class,
                () -> b.restoreDomain(5, image, small, DomainConsole.inMemory())).getMessage();
        assertTrue(m.contains("the saved grant table frame 0 0x20 is outside the backend's guest RAM"), m);

        SoftwareBackend big = backend(b, 5, (HOLE_GFN + 1) * PAGE); // the hole is RAM there
        m = assertThrows(SaveStreamException.class,
                () -> b.restoreDomain(5, image, big, DomainConsole.inMemory())).getMessage();
        assertTrue(m.contains("frame 1 was on an extra page outside RAM at 0x1000, which is in the backend's guest RAM"), m);

        // A later frame on an extra page the backend refuses (beyond its 2^52 bytes): the first one is unmapped again.
        long beyond = 1L << 41;
        GrantTableImage g = image.grants();
        byte[] page = g.contents()[1];
        DomainImage far = withGrants(image, new GrantTableImage(1, new long[] {TABLE_GFN, HOLE_GFN, beyond},
                new byte[][] {null, page, page}, new int[0]));
        SoftwareBackend vcpusB = backend(b, 5, RAM);
        m = assertThrows(SaveStreamException.class,
                () -> b.restoreDomain(5, far, vcpusB, DomainConsole.inMemory())).getMessage();
        assertTrue(m.contains("the saved grant table frame 2 at guest frame 0x20000000000, an extra page, is one the backend"
                + " cannot map"), m);
        assertNull(vcpusB.memory().extraPage(HOLE_GFN), "no extra page left");
        assertNull(b.domains().get(5));
        assertNull(b.eventChannels().guest(5));
        Domain p = b.restoreDomain(5, image, vcpusB, DomainConsole.inMemory());
        assertTrue(p.grants().onExtraPage(1), "the same backend takes the stream afterwards");
    }

    static DomainImage withGrants(DomainImage i, GrantTableImage g) {
        return new DomainImage(i.domid(), i.width(), i.xenMajor(), i.xenMinor(), i.systemTime(), i.events(), i.hvmParams(),
                i.timers(), g);
    }
}
