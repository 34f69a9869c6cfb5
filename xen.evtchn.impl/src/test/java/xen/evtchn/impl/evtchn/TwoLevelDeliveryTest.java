package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.evtchn.EvtchnFixture.SELF;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * 2-level delivery exactly as xen-abi.md "2-level ABI in guest memory": the bits in the guest's
 * own shared_info/vcpu_info at the reference offsets, and the upcalls the software backend counts.
 */
class TwoLevelDeliveryTest extends EvtchnTestBase {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Binds IPIs on vCPU {@code vcpu} until one gets port {@code port} (lower ports stay unbound). */
    private static int ipiAt(Guest g, int port, int vcpu) {
        for (int p = 1; p < port; p++) {
            assertEquals(p, g.d.allocUnbound(SELF, SELF));
        }
        int p = g.d.bindIpi(vcpu);
        assertEquals(port, p);
        return p;
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_unmaskedPort_setsPendingSelUpcallPending_oneUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = ipiAt(g, 3, 0);
        assertEquals(0, g.d.send(p));
        assertEquals(1L << 3, g.pendingWord(0), "evtchn_pending word 0 = bit 3 only");
        assertEquals(1L, g.pendingSel(0), "pending_sel bit 0 (port 3 / bits-per-word)");
        assertEquals(1, g.upcallPending(0), "upcall_pending byte");
        assertEquals(1, g.upcalls(0), "one upcall");
        assertEquals(EvtchnFixture.CALLBACK, g.b.vcpu(0).lastRoute(), "by the domain's callback route");
        assertEquals(0, g.upcalls(1));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_secondSendWhilePending_noNewUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.d.send(p);
        g.d.send(p);
        g.d.send(p);
        assertEquals(1, g.upcalls(0));
        assertTrue(g.pending(p));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_stillPendingAfterGuestClearsSelAndUpcallPending_noNewUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.d.send(p);
        g.setUpcallPending(0, 0);
        g.setPendingSel(0, 0);
        g.d.send(p);
        assertEquals(1, g.upcalls(0), "the pending bit was still set: Xen stops there");
        assertEquals(0, g.pendingSel(0));
        assertEquals(0, g.upcallPending(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_afterGuestClearsUpcallPendingSelAndPendingBit_nextSendUpcallsAgain(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.d.send(p);
        assertEquals(1, g.upcalls(0));
        g.guestAcknowledges(0, p);
        g.d.send(p);
        assertEquals(2, g.upcalls(0));
        g.assertDelivered(p, 0);
        g.guestAcknowledges(0, p);
        g.d.send(p);
        assertEquals(3, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_maskedPort_pendingBitOnly_noSelNoUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.mask(p);
        assertEquals(0, g.d.send(p));
        assertTrue(g.pending(p), "pending bit set");
        assertTrue(g.masked(p), "mask untouched");
        assertEquals(0, g.pendingSel(0));
        assertEquals(0, g.upcallPending(0));
        assertEquals(0, g.upcalls(0)); // pollers are still woken: EventWaitsTest
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_pendingSelAlreadySet_noNewUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.setPendingSel(0, 1L);
        g.d.send(p);
        assertTrue(g.pending(p));
        assertEquals(1L, g.pendingSel(0));
        assertEquals(0, g.upcallPending(0), "pending_sel bit was set: Xen stops before upcall_pending");
        assertEquals(0, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_upcallPendingAlreadySet_noNewUpcall(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.setUpcallPending(0, 1);
        g.d.send(p);
        assertTrue(g.pending(p));
        assertEquals(1L, g.pendingSel(0), "pending_sel still set");
        assertEquals(1, g.upcallPending(0));
        assertEquals(0, g.upcalls(0), "upcall_pending was already set: no new upcall");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_upcallPendingOnlyBit0Changed_upcallMaskByteKept(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        g.vcpuInfo(0).set(ValueLayout.JAVA_BYTE, 1, (byte) 1); // upcall_mask
        g.d.send(p);
        assertEquals(1, g.upcallPending(0));
        assertEquals(1, g.vcpuInfo(0).get(ValueLayout.JAVA_BYTE, 1), "upcall_mask byte untouched");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_secondPortSameWordWhileUpcallPending_pendingBitNoUpcall(GuestWidth w) {
        Guest g = guest(w);
        int a = g.d.bindIpi(0);
        int b = g.d.bindIpi(0);
        g.d.send(a);
        g.d.send(b);
        assertTrue(g.pending(a) && g.pending(b));
        assertEquals(1L, g.pendingSel(0));
        assertEquals(1, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_portInSecondWord_setsPendingSelBit1(GuestWidth w) {
        Guest g = guest(w);
        int bits = g.bits;
        int p = ipiAt(g, bits + 1, 0); // word 1, bit 1
        g.d.send(p);
        assertEquals(0, g.pendingWord(0));
        assertEquals(1L << 1, g.pendingWord(1));
        assertEquals(1L << 1, g.pendingSel(0), "pending_sel bit 1");
        assertEquals(1, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_highestPort_lastWordLastBit(GuestWidth w) {
        Guest g = guest(w);
        int last = g.limit - 1;
        int p = ipiAt(g, last, 0);
        g.d.send(p);
        int lastWord = g.bits - 1;
        long lastBit = 1L << (g.bits - 1);
        assertEquals(lastBit, g.pendingWord(lastWord), "word " + lastWord + " bit " + (g.bits - 1));
        for (int i = 0; i < lastWord; i++) {
            assertEquals(0, g.pendingWord(i), "word " + i);
        }
        assertEquals(lastBit, g.pendingSel(0), "pending_sel bit " + (g.bits - 1));
        assertEquals(1, g.upcallPending(0));
        assertEquals(1, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_highestPortMasked_maskWordRespected(GuestWidth w) {
        Guest g = guest(w);
        int last = g.limit - 1;
        int p = ipiAt(g, last, 0);
        g.mask(p);
        g.d.send(p);
        assertTrue(g.pending(p));
        assertEquals(0, g.pendingSel(0));
        assertEquals(0, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_onVcpu1_usesVcpuInfo1Only(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(1);
        g.d.send(p);
        MemorySegment si = g.sharedInfo();
        assertEquals(1, si.get(ValueLayout.JAVA_BYTE, 64), "vcpu_info[1] at 64: upcall_pending");
        assertEquals(0, si.get(ValueLayout.JAVA_BYTE, 0), "vcpu_info[0] untouched");
        assertEquals(1L << (p / g.bits), g.pendingSel(1));
        assertEquals(0, g.pendingSel(0));
        assertEquals(1, g.upcalls(1));
        assertEquals(0, g.upcalls(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void setPending_perVcpuUpcallVector_usedForThatVcpu(GuestWidth w) {
        Guest g = guest(w);
        UpcallRoute.LapicVector v = new UpcallRoute.LapicVector(0x40);
        g.d.upcalls().setVcpuVector(1, v);
        int p1 = g.d.bindIpi(1);
        int p0 = g.d.bindIpi(0);
        g.d.send(p1);
        g.d.send(p0);
        assertEquals(v, g.b.vcpu(1).lastRoute(), "vCPU 1 by its own vector");
        assertEquals(EvtchnFixture.CALLBACK, g.b.vcpu(0).lastRoute(), "vCPU 0 by the callback");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void mapSharedInfo_eventPendingBeforeMapping_movesIntoGuestPage(GuestWidth w) {
        kvm.provider.software.SoftwareBackend b = fx.backend(5, 1);
        GuestEventChannels d = fx.domains.create(5, w, b);
        d.upcalls().setCallback(EvtchnFixture.CALLBACK);
        int p = d.bindIpi(0);
        assertEquals(0, d.send(p));
        assertEquals(1, b.vcpu(0).upcallsDelivered());
        assertEquals(0, d.mapSharedInfo(EvtchnFixture.SHARED_INFO_GFN));
        Guest g = new Guest(d, b, w);
        assertTrue(g.pending(p), "the pending bit moved into the guest's page");
        assertEquals(1, g.upcallPending(0));
        assertEquals(1L, g.pendingSel(0));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void mapSharedInfo_frameOutsideRam_einval(GuestWidth w) {
        Guest g = guest(w);
        long frames = EvtchnFixture.RAM / 4096;
        assertEquals(EvtchnFixture.EINVAL, g.d.mapSharedInfo(frames));
        assertEquals(EvtchnFixture.EINVAL, g.d.mapSharedInfo(-1));
        assertEquals(EvtchnFixture.EINVAL, g.d.mapSharedInfo(Long.MAX_VALUE));
    }

    // ---- layouts, with the offsets written out literally ------------------------------------------

    @Test
    void x86_64_layout_pendingAt0x800_maskAt0xA00_u64Words_pendingSelAt8() {
        Guest g = guest(GuestWidth.X86_64);
        int p = ipiAt(g, 64 + 2, 1); // word 1, bit 2; vCPU 1
        MemorySegment si = g.sharedInfo();
        g.d.send(p);
        assertEquals(1L << 2, si.get(U64, 0x800 + 8), "evtchn_pending[1]");
        assertEquals(1L << 1, si.get(U64, 64 + 8), "vcpu_info[1].pending_sel (u64 @8)");
        assertEquals(1, si.get(ValueLayout.JAVA_BYTE, 64), "vcpu_info[1].upcall_pending");

        // the guest masks port 64+3 at evtchn_mask[1] @0xA08, the port stays undelivered
        int q = g.d.bindIpi(1);
        assertEquals(64 + 3, q);
        g.guestAcknowledges(1, p);
        si.set(U64, 0xA00 + 8, 1L << 3);
        g.d.send(q);
        assertEquals(1L << 3, si.get(U64, 0x800 + 8));
        assertEquals(0, si.get(U64, 64 + 8), "masked at 0xA08: no pending_sel");
        assertEquals(1, g.upcalls(1));
    }

    @Test
    void x86_32_layout_pendingAt0x800_maskAt0x880_u32Words_pendingSelAt4() {
        Guest g = guest(GuestWidth.X86_32);
        int p = ipiAt(g, 32 + 2, 1); // word 1, bit 2; vCPU 1
        MemorySegment si = g.sharedInfo();
        g.d.send(p);
        assertEquals(1 << 2, si.get(U32, 0x800 + 4), "evtchn_pending[1] (u32 words)");
        assertEquals(0, si.get(U32, 0x800), "evtchn_pending[0]");
        assertEquals(0, si.get(U32, 0x800 + 8), "evtchn_pending[2]");
        assertEquals(1 << 1, si.get(U32, 64 + 4), "vcpu_info[1].pending_sel (u32 @4)");
        assertEquals(0, si.get(U32, 64 + 8), "nothing at the 64-bit pending_sel offset");
        assertEquals(1, si.get(ValueLayout.JAVA_BYTE, 64), "vcpu_info[1].upcall_pending");

        int q = g.d.bindIpi(1);
        assertEquals(32 + 3, q);
        g.guestAcknowledges(1, p);
        si.set(U32, 0x880 + 4, 1 << 3); // evtchn_mask[1]
        g.d.send(q);
        assertEquals(1 << 3, si.get(U32, 0x800 + 4));
        assertEquals(0, si.get(U32, 64 + 4), "masked at 0x884: no pending_sel");
        assertEquals(1, g.upcalls(1));

        // a mask bit at the 64-bit offset 0xA00 means nothing to a 32-bit guest
        int r = g.d.bindIpi(0);
        assertEquals(32 + 4, r);
        si.set(U32, 0xA00 + 4, 1 << 4);
        g.d.send(r);
        assertEquals(1 << 1, si.get(U32, 4), "vcpu_info[0].pending_sel bit 1: not masked");
        assertEquals(1, g.upcalls(0));
    }

    @Test
    void x86_32_highestPort1023_word31Bit31() {
        Guest g = guest(GuestWidth.X86_32);
        int p = ipiAt(g, 1023, 0);
        g.d.send(p);
        MemorySegment si = g.sharedInfo();
        assertEquals(1 << 31, si.get(U32, 0x800 + 31 * 4), "evtchn_pending[31] bit 31");
        assertEquals(1 << 31, si.get(U32, 4), "pending_sel bit 31");
        assertEquals(0, si.get(U32, 0x880), "nothing written past the pending array");
        assertEquals(1, g.upcalls(0));
    }

    @Test
    void x86_64_highestPort4095_word63Bit63() {
        Guest g = guest(GuestWidth.X86_64);
        int p = ipiAt(g, 4095, 0);
        g.d.send(p);
        MemorySegment si = g.sharedInfo();
        assertEquals(1L << 63, si.get(U64, 0x800 + 63 * 8), "evtchn_pending[63] bit 63");
        assertEquals(1L << 63, si.get(U64, 8), "pending_sel bit 63");
        assertEquals(0, si.get(U64, 0xA00), "nothing written past the pending array");
        assertEquals(1, g.upcalls(0));
    }

    @Test
    void x86_32_unmaskHighestPort_clearsMaskAt0x8FC() {
        Guest g = guest(GuestWidth.X86_32);
        int p = ipiAt(g, 1023, 0);
        MemorySegment si = g.sharedInfo();
        si.set(U32, 0x880 + 31 * 4, 1 << 31);
        g.d.send(p);
        assertEquals(0, g.upcalls(0));
        assertEquals(0, g.d.unmask(p));
        assertEquals(0, si.get(U32, 0x880 + 31 * 4), "mask bit cleared");
        assertEquals(1 << 31, si.get(U32, 4));
        assertEquals(1, g.upcalls(0));
    }

    @Test
    void isPendingIsMasked_reportGuestBits() {
        Guest g = guest(GuestWidth.X86_64);
        int p = g.d.bindIpi(0);
        assertFalse(g.d.isPending(p));
        g.d.send(p);
        assertTrue(g.d.isPending(p));
        g.mask(p);
        assertTrue(g.d.isMasked(p));
        assertFalse(g.d.isPending(g.limit), "out of range is never pending");
    }
}
