package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/** Which vCPUs an upcall reaches, by route, and for how long a level is held. */
class UpcallRouteTest extends EvtchnTestBase {
    @Test
    void aGsiOrIntxCallbackIsRaisedOnVcpu0OnlyAndAPerVcpuVectorEverywhere() {
        Guest g = guest(GuestWidth.X86_64);
        int on0 = g.d.bindIpi(0);
        int on1 = g.d.bindIpi(1);
        for (UpcallRoute level : new UpcallRoute[] {new UpcallRoute.Gsi(5), new UpcallRoute.PciIntx(0, 3 << 3, 1)}) {
            g.d.upcalls().setCallback(level);
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
        g.d.upcalls().setVcpuVector(1, new UpcallRoute.LapicVector(0x40));
        long before1 = g.upcalls(1);
        g.d.send(on1);
        assertEquals(before1 + 1, g.upcalls(1), "a per-vCPU vector reaches vCPU 1 whatever the callback");
    }

    @Test
    void aGsiLevelStaysAssertedWhileVcpu0sUpcallPendingIsSet() {
        Guest g = guest(GuestWidth.X86_64);
        List<BooleanSupplier> held = new ArrayList<>();
        GuestEventChannels d = fx.domains.create(5, GuestWidth.X86_64, new RecordingLevels(g, held));
        assertEquals(0, d.mapSharedInfo(0x30));
        d.upcalls().setCallback(new UpcallRoute.Gsi(9));
        int p = d.bindIpi(0);
        d.send(p);
        assertEquals(1, held.size(), "the line was asserted once");
        assertTrue(held.get(0).getAsBoolean(), "held while upcall_pending is set");
        d.vcpuInfo(0).set(ValueLayout.JAVA_BYTE, 0, (byte) 0); // the guest clears it
        assertFalse(held.get(0).getAsBoolean(), "released once the guest cleared it");
    }

    /** A backend over g's memory that records the level assertions it gets. */
    private record RecordingLevels(Guest g, List<BooleanSupplier> held) implements VcpuBackend {
        @Override
        public int vcpuCount() {
            return 1;
        }

        @Override
        public GuestMemory memory() {
            return g.memory();
        }

        @Override
        public long tscHz() {
            return 1_000_000_000L;
        }

        @Override
        public long tsc() {
            return System.nanoTime();
        }

        @Override
        public void deliverUpcall(int vcpu, UpcallRoute route) {
            throw new AssertionError("a GSI callback is a level, not an edge");
        }

        @Override
        public void assertLevel(UpcallRoute route, BooleanSupplier h) {
            held.add(h);
        }
    }
}
