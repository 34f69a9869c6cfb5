package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/** VCPUOP_register_vcpu_info as GuestEventChannels does it, and soft reset. */
class VcpuInfoAndSoftResetTest extends EvtchnTestBase {
    private static final long GFN = 0x20;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static MemorySegment at(Guest g, long gfn, int offset) {
        return g.memory().ram().asSlice(gfn * GuestMemory.PAGE_SIZE + offset, 64);
    }

    private static long pendingSel(Guest g, MemorySegment info) {
        return g.w == GuestWidth.X86_64 ? info.get(U64, 8) : Integer.toUnsignedLong(info.get(U32, 4));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void registeringMovesTheVcpuInfoAndMarksEverythingPending(GuestWidth w) {
        Guest g = guest(w);
        g.vcpuInfo(1).set(ValueLayout.JAVA_BYTE, 1, (byte) 1); // upcall_mask, to see the contents move
        long before = g.upcalls(1);
        assertEquals(0, g.d.registerVcpuInfo(1, GFN, 128));
        MemorySegment info = at(g, GFN, 128);
        assertEquals(1, info.get(ValueLayout.JAVA_BYTE, 1), "contents moved with it");
        assertEquals(w == GuestWidth.X86_64 ? -1L : 0xFFFF_FFFFL, pendingSel(g, info), "every pending_sel bit set");
        assertEquals(1, info.get(ValueLayout.JAVA_BYTE, 0), "upcall_pending set");
        assertEquals(before + 1, g.upcalls(1), "so that nothing is lost, one upcall");

        info.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        info.fill((byte) 0);
        g.vcpuInfo(1).fill((byte) 0);
        int port = g.d.bindIpi(1);
        g.d.send(port);
        assertEquals(1L << (port / g.bits), pendingSel(g, info), "later events select in the new vcpu_info");
        assertEquals(0, pendingSel(g, g.vcpuInfo(1)), "and not in the old slot");
    }

    @Test
    void badRegistrationsAreRefused() {
        Guest g = guest(GuestWidth.X86_64);
        assertEquals(-2, g.d.registerVcpuInfo(2, GFN, 0), "no such vCPU: -ENOENT");
        assertEquals(-22, g.d.registerVcpuInfo(0, GFN, 4096 - 63), "no room for 64 bytes");
        assertEquals(-22, g.d.registerVcpuInfo(0, GFN, 4), "not 8-byte aligned");
        assertEquals(-22, g.d.registerVcpuInfo(0, 1 << 20, 0), "frame outside RAM");
        assertEquals(-22, g.d.registerVcpuInfo(0, GFN, -64), "negative offset");
        assertEquals(0, g.d.registerVcpuInfo(0, GFN, 4096 - 64), "the last slot that fits");
        assertEquals(-22, g.d.registerVcpuInfo(0, GFN, 0), "registered already");
    }

    @Test
    void aVcpuAbove32LosesNothingBeforeItRegisters() {
        Guest g = fx.guest(1, GuestWidth.X86_64, 34);
        int port = g.d.bindIpi(33);
        g.d.send(port);
        assertTrue(g.pending(port), "the event is pending in shared_info");
        assertEquals(0, g.d.registerVcpuInfo(33, GFN, 0));
        MemorySegment info = at(g, GFN, 0);
        assertEquals(-1L, pendingSel(g, info), "registration marks every word pending");
        assertEquals(1, info.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(1, g.upcalls(33),
                "the upcall raised through the dummy is still the one to take: upcall_pending moved along set");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void softResetClosesEverythingAndForgetsCallbackVectorsVcpuInfoAndSharedInfo(GuestWidth w) {
        Guest g = guest(w);
        int ipi = g.d.bindIpi(0);
        int high = 0;
        for (int i = 0; i < 100; i++) {
            high = g.d.allocUnbound(DomId.SELF, DomId.SELF);
        }
        g.d.upcalls().setVcpuVector(1, new UpcallRoute.LapicVector(0x40));
        assertEquals(0, g.d.registerVcpuInfo(1, GFN, 0));
        g.d.send(ipi);

        g.d.softReset();

        assertEquals(EvtchnStat.CLOSED, g.status(ipi).status());
        assertEquals(EvtchnStat.CLOSED, g.status(high).status(), "ports once valid stay valid (XSA-338)");
        assertEquals(UpcallRoute.NONE, g.d.upcalls().callback());
        MemorySegment guestPage = g.sharedInfo();
        long guestWord = guestPage.get(U64, 0x800);
        int again = g.d.bindIpi(1);
        assertEquals(1, again, "allocation starts again from port 1");
        g.d.send(again);
        assertEquals(guestWord, guestPage.get(U64, 0x800), "shared_info is no longer in guest RAM");
        assertEquals(UpcallRoute.NONE, g.b.vcpu(1).lastRoute(), "no per-vCPU vector, no callback");
        assertEquals(0, g.d.registerVcpuInfo(1, GFN, 0), "the vcpu_info registration was forgotten");
        assertEquals(0, g.d.mapSharedInfo(EvtchnFixture.SHARED_INFO_GFN), "the guest maps shared_info again");
        assertTrue(g.pending(again), "and finds what was sent meanwhile");
    }
}
