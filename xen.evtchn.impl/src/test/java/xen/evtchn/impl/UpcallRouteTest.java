package xen.evtchn.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.EvtchnFixture.Guest;

/** Which vCPUs an upcall reaches, by route. */
class UpcallRouteTest extends EvtchnTestBase {
    @Test
    void aGsiOrIntxCallbackIsRaisedOnVcpu0OnlyAndAPerVcpuVectorEverywhere() {
        Guest g = guest(GuestWidth.X86_64);
        int on0 = g.d.bindIpi(0);
        int on1 = g.d.bindIpi(1);
        for (UpcallRoute level : new UpcallRoute[] {new UpcallRoute.Gsi(5), new UpcallRoute.PciIntx(0, 3 << 3, 1)}) {
            g.d.setCallback(level);
            long before0 = g.upcalls(0);
            long before1 = g.upcalls(1);
            g.d.send(on0);
            g.d.send(on1);
            assertEquals(before0 + 1, g.upcalls(0), level + ": vCPU 0 gets its line raised");
            assertEquals(before1, g.upcalls(1), level + ": vCPU 1 gets nothing injected");
            g.clearPendingBit(on0);
            g.clearPendingBit(on1);
            g.vcpuInfo(0).fill((byte) 0);
            g.vcpuInfo(1).fill((byte) 0);
        }
        g.d.setVcpuVector(1, new UpcallRoute.LapicVector(0x40));
        long before1 = g.upcalls(1);
        g.d.send(on1);
        assertEquals(before1 + 1, g.upcalls(1), "a per-vCPU vector reaches vCPU 1 whatever the callback");
    }
}
