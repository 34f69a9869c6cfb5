package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.CONSOLE_IO;
import static xen.evtchn.impl.hypercall.PlatformFixture.DOMID_SELF;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.EPERM;
import static xen.evtchn.impl.hypercall.PlatformFixture.ESRCH;
import static xen.evtchn.impl.hypercall.PlatformFixture.HVM_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.MEMORY_OP;
import static xen.evtchn.impl.hypercall.PlatformFixture.U16;
import static xen.evtchn.impl.hypercall.PlatformFixture.U32;
import static xen.evtchn.impl.hypercall.PlatformFixture.U64;
import static xen.evtchn.impl.hypercall.PlatformFixture.XEN_VERSION;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.console.MemoryConsoleSink;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.hypercall.PlatformFixture.Call;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * The families as the dispatcher sees them: registered by number, refused from CPL &gt; 0,
 * unknown numbers -ENOSYS, a domain without a platform -ESRCH; and the {@link DomainTable} registry.
 */
class PlatformDispatchTest {
    private final PlatformFixture fx = new PlatformFixture();

    @AfterEach
    void close() {
        fx.close();
    }

    /** One valid call of each family, with its struct at ARG (a different page per family). */
    private static Call[] validCalls(Guest g) {
        MemorySegment ram = g.ram();
        // hvm_op set_param(CALLBACK_IRQ, vector 0xf3) at ARG
        ram.set(U16, ARG, (short) DOMID_SELF);
        ram.set(U32, ARG + 4, 0);
        ram.set(U64, ARG + 8, 2L << 56 | 0xF3);
        // xen_version extraversion into ARG + 0x1000
        ram.asSlice(ARG + 0x1000, 16).fill((byte) 0x5A);
        // memory_op add_to_physmap(shared_info -> gpfn 0x20) at ARG + 0x2000
        ram.set(U16, ARG + 0x2000, (short) DOMID_SELF);
        ram.set(U32, ARG + 0x2004, 0);
        ram.set(U64, ARG + 0x2008, 0);
        ram.set(U64, ARG + 0x2010, 0x20);
        // console_io write "hi\n" at ARG + 0x3000
        MemorySegment.copy("hi\n".getBytes(StandardCharsets.US_ASCII), 0, ram, ValueLayout.JAVA_BYTE, ARG + 0x3000, 3);
        return new Call[] {
            Call.of(g, HVM_OP, 0, ARG),
            Call.of(g, XEN_VERSION, 1, ARG + 0x1000),
            Call.of(g, MEMORY_OP, 7, ARG + 0x2000),
            Call.of(g, CONSOLE_IO, 0, 3, ARG + 0x3000),
        };
    }

    @Test
    void everyFamilyIsRegisteredUnderXensNumber() {
        for (int number : new int[] {32, 17, 12, 34, 18, 24, 15, 29, 20}) {
            assertNotNull(fx.dispatcher.handler(number), "hypercall " + number);
            assertSame(fx.families.handler(number), fx.dispatcher.handler(number), "hypercall " + number);
        }
        assertNull(fx.families.handler(13), "not a family of this host");
        assertTrue(fx.dispatcher.handler(32) instanceof EventChannelOpHandler);
        assertTrue(fx.dispatcher.handler(17) instanceof XenVersionHandler);
        assertTrue(fx.dispatcher.handler(12) instanceof MemoryOpHandler);
        assertTrue(fx.dispatcher.handler(34) instanceof HvmOpHandler);
        assertTrue(fx.dispatcher.handler(24) instanceof VcpuOpHandler);
        assertTrue(fx.dispatcher.handler(15) instanceof SetTimerOpHandler);
        assertSame(fx.families.schedOp(), fx.dispatcher.handler(29));
        assertTrue(fx.dispatcher.handler(18) instanceof ConsoleIoHandler);
        assertTrue(fx.dispatcher.handler(20) instanceof GrantTableOpHandler);
    }

    @Test
    void callsFromCplThreeAreEpermAndChangeNothing() {
        Guest g = fx.guest(1);
        long sharedInfo = g.d().sharedInfo().address();
        for (Call c : validCalls(g)) {
            for (int cpl = 1; cpl <= 3; cpl++) {
                assertEquals(EPERM, g.call(c.withCpl(cpl)), "hypercall " + c.number() + " at CPL " + cpl);
            }
        }
        assertEquals(UpcallRoute.NONE, g.d().upcalls().callback(), "hvm_op did not run");
        assertEquals(0x5A, g.ram().get(ValueLayout.JAVA_BYTE, ARG + 0x1000), "xen_version did not write");
        assertEquals(sharedInfo, g.d().sharedInfo().address(), "memory_op did not map");
        assertEquals(0, ((MemoryConsoleSink) g.p().console().sink()).received(), "console_io did not write");
    }

    @Test
    void theSameCallsFromCplZeroSucceed() {
        Guest g = fx.guest(1);
        for (Call c : validCalls(g)) {
            assertEquals(0, g.call(c), "hypercall " + c.number());
        }
        assertEquals(new UpcallRoute.Vector(0xF3), g.d().upcalls().callback());
        assertEquals('.', g.ram().get(ValueLayout.JAVA_BYTE, ARG + 0x1000));
        assertEquals(g.ram().address() + 0x20 * 4096L, g.d().sharedInfo().address());
        assertEquals("hi\n", ((MemoryConsoleSink) g.p().console().sink()).text());
    }

    @Test
    void neighbouringUnknownHypercallNumbersAreEnosys() {
        Guest g = fx.guest(1);
        for (int nr : new int[] {11, 13, 14, 19, 35, 36, 63}) {
            assertEquals(ENOSYS, g.call(nr, 0, ARG), "hypercall " + nr);
        }
    }

    @Test
    void aDomainWithoutAPlatformIsEsrchForKnownSubOpsAndEnosysForUnknownOnes() {
        Guest g = fx.guest(1);
        GuestEventChannels bare = fx.domains.create(9, GuestWidth.X86_64, fx.backend(9, 1));
        for (Call c : validCalls(g)) {
            assertEquals(ESRCH, g.call(c.withDomid(bare.domid())), "hypercall " + c.number());
        }
        assertEquals(ENOSYS, g.call(Call.of(g, XEN_VERSION, 99, 0).withDomid(9)));
        assertEquals(ENOSYS, g.call(Call.of(g, MEMORY_OP, 1, 0).withDomid(9)));
        assertEquals(ENOSYS, g.call(Call.of(g, HVM_OP, 99, 0).withDomid(9)));
        assertEquals(ENOSYS, g.call(Call.of(g, CONSOLE_IO, 9, 0, 0).withDomid(9)));
        assertEquals(UpcallRoute.NONE, bare.upcalls().callback());
    }

    @Test
    void unregisteringTakesThemAwayTogether() {
        Guest g = fx.guest(1);
        fx.families.unregisterFrom(fx.dispatcher);
        for (Call c : validCalls(g)) {
            assertEquals(ENOSYS, g.call(c), "hypercall " + c.number());
        }
        assertEquals(0, ((MemoryConsoleSink) g.p().console().sink()).received());
        fx.families.registerWith(fx.dispatcher);
        assertEquals(0x0004_0011, g.call(XEN_VERSION, 0, 0));
    }

    @Test
    void registeringOverATakenNumberFailsAndRegistersNone() {
        HypercallDispatcher d = new HypercallDispatcher();
        HypercallHandler other = call -> 0;
        d.register(34, other);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new HypercallFamilies(fx.domains, fx.platforms, ShutdownListener.NONE).registerWith(d));
        assertTrue(e.getMessage().contains("34"), e.getMessage());
        assertNull(d.handler(17), "xen_version was taken away again");
        assertNull(d.handler(12), "memory_op was taken away again");
        assertNull(d.handler(18));
        assertNull(d.handler(32), "event_channel_op was taken away again");
        assertSame(other, d.handler(34), "the owner of 34 keeps it");
        for (int number : new int[] {24, 15, 29}) {
            assertNull(d.handler(number), "hypercall " + number + " never came or went again");
        }
    }

    @Test
    void platformsAreOnePerDomainAndGoAwayWithRemove() {
        Guest g = fx.guest(1);
        assertSame(g.p(), fx.platforms.get(1));
        assertThrows(IllegalStateException.class, () -> fx.platform(g.d()));
        assertTrue(fx.platforms.remove(1));
        assertFalse(fx.platforms.remove(1));
        assertNull(fx.platforms.get(1));
        assertEquals(ESRCH, g.call(XEN_VERSION, 0, 0), "its hypercalls now find no platform");
        assertNull(fx.platforms.get(DOMID_SELF), "reserved ids have none");
        assertNull(fx.platforms.get(-1));
        assertFalse(fx.platforms.remove(0x7FF5));
        assertSame(g.d(), fx.platform(g.d()).events(), "a removed domid can have a new platform");
    }

    @Test
    void theHostSetsParamsWithinRangeOnly() {
        Guest g = fx.guest(1);
        assertThrows(IllegalArgumentException.class, () -> g.p().setParam(39, 1));
        assertThrows(IllegalArgumentException.class, () -> g.p().param(-1));
        g.p().setParam(0, 2L << 56 | 0xF3);
        assertEquals(new UpcallRoute.Vector(0xF3), g.d().upcalls().callback(), "a host-set callback takes effect too");
    }
}
