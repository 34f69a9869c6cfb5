package xen.evtchn.impl.hypercall;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.hypercall.PlatformFixture.ARG;
import static xen.evtchn.impl.hypercall.PlatformFixture.EFAULT;
import static xen.evtchn.impl.hypercall.PlatformFixture.EINVAL;
import static xen.evtchn.impl.hypercall.PlatformFixture.ENOSYS;
import static xen.evtchn.impl.hypercall.PlatformFixture.RAM;
import static xen.evtchn.impl.hypercall.PlatformFixture.U32;
import static xen.evtchn.impl.hypercall.PlatformFixture.U64;
import static xen.evtchn.impl.hypercall.PlatformFixture.XEN_VERSION;
import static xen.evtchn.impl.hypercall.PlatformFixture.assertUnchanged;

import java.nio.charset.StandardCharsets;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.hypercall.CompileInfo;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.hypercall.PlatformFixture.Guest;

/**
 * HYPERVISOR_xen_version through the dispatcher, every XENVER sub-op with its buffer in guest RAM:
 * what is written (and nothing past it), -EFAULT with nothing written, the caller's width for
 * platform_parameters, -EINVAL and -ENOSYS as Xen answers them.
 */
class XenVersionHandlerTest {
    private static final int SENTINEL = 0xA5;

    private final PlatformFixture fx = new PlatformFixture();
    private final Guest g = fx.guest(1);

    @AfterEach
    void close() {
        fx.close();
    }

    /** The bytes of {@code text} followed by NULs up to {@code length}. */
    private static byte[] padded(String text, int length) {
        byte[] out = new byte[length];
        byte[] t = text.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, out, 0, t.length);
        return out;
    }

    @Test
    void aConfiguredVersionIsMajorDotMinorInRange() {
        XenVersionInfo v = XenVersionInfo.parse(" 4.19 ");
        assertEquals(4, v.major());
        assertEquals(19, v.minor());
        assertEquals(32767, XenVersionInfo.parse("32767.65535").major());
        for (String bad : new String[] {"4", "4.", ".17", "4.17.1", "four.17", "32768.0", "4.65536", "-1.2", "4.1x"}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> XenVersionInfo.parse(bad), bad);
            assertEquals("a Xen version is major.minor (major 0..32767, minor 0..65535), e.g. 4.17: got \"" + bad + "\"",
                    e.getMessage());
        }
    }

    @Test
    void versionIsMajorShiftedSixteenOrMinorAndIgnoresItsArgument() {
        assertEquals(0x0004_0011, g.call(XEN_VERSION, 0, 0), "4.17 by default");
        assertEquals(0x0004_0011, g.call(XEN_VERSION, 0, 0xDEAD_BEEF_0000L), "the argument is not a buffer");
        assertEquals(0x0004_0011, g.call32(XEN_VERSION, 0, 0));
    }

    @Test
    void theVersionIsConfiguredPerDomain() {
        SoftwareBackend b2 = fx.backend(2, 1);
        GuestEventChannels d2 = fx.domains.create(2, GuestWidth.X86_64, b2);
        Guest other = new Guest(fx.platform(d2, XenVersionInfo.DEFAULT.withVersion(4, 19),
                DomainConsole.inMemory()), b2, fx.dispatcher);
        assertEquals(0x0004_0013, other.call(XEN_VERSION, 0, 0));
        assertEquals(0x0004_0011, g.call(XEN_VERSION, 0, 0), "dom1 is unchanged");
    }

    @Test
    void theUpperHalfOfA64BitCmdIsIgnoredAsXensIntCmd() {
        assertEquals(0x0004_0011, g.call(XEN_VERSION, 1L << 32, 0));
    }

    @Test
    void extraversionFillsSixteenBytesNulPadded() {
        g.fill(ARG, 32, SENTINEL);
        assertEquals(0, g.call(XEN_VERSION, 1, ARG));
        assertArrayEquals(padded(".0-java", 16), g.bytes(ARG, 16));
        assertUnchanged(g, ARG + 16, filled(16), "after the 16 bytes");
    }

    @Test
    void extraversionOutsideRamIsEfaultAndWritesNothing() {
        g.fill(RAM - 8, 8, SENTINEL);
        assertEquals(EFAULT, g.call(XEN_VERSION, 1, RAM - 8), "8 of the 16 bytes are past the end of RAM");
        assertUnchanged(g, RAM - 8, filled(8), "the part inside RAM");
        assertEquals(EFAULT, g.call(XEN_VERSION, 1, RAM + 0x1000));
        assertEquals(EFAULT, g.call(XEN_VERSION, 1, -1L));
    }

    @Test
    void compileInfoFillsFourNulPaddedFields() {
        g.fill(ARG, 160, SENTINEL);
        assertEquals(0, g.call(XEN_VERSION, 2, ARG));
        CompileInfo ci = XenVersionInfo.DEFAULT.compileInfo();
        assertArrayEquals(padded(ci.compiler(), 64), g.bytes(ARG, 64), "compiler[64] @0");
        assertArrayEquals(padded(ci.compileBy(), 16), g.bytes(ARG + 64, 16), "compile_by[16] @64");
        assertArrayEquals(padded(ci.compileDomain(), 32), g.bytes(ARG + 80, 32), "compile_domain[32] @80");
        assertArrayEquals(padded(ci.compileDate(), 32), g.bytes(ARG + 112, 32), "compile_date[32] @112");
        assertUnchanged(g, ARG + 144, filled(16), "after the 144 bytes");
        assertEquals(EFAULT, g.call(XEN_VERSION, 2, RAM - 143));
    }

    @Test
    void capabilitiesAreXensHvmListInA1024ByteArray() {
        g.fill(ARG, 1040, SENTINEL);
        assertEquals(0, g.call(XEN_VERSION, 3, ARG));
        assertArrayEquals(padded("hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ", 1024), g.bytes(ARG, 1024));
        assertUnchanged(g, ARG + 1024, filled(16), "after the 1024 bytes");
        g.fill(RAM - 1000, 1000, SENTINEL);
        assertEquals(EFAULT, g.call(XEN_VERSION, 3, RAM - 1000));
        assertUnchanged(g, RAM - 1000, filled(1000), "a short buffer");
    }

    @Test
    void changesetFillsSixtyFourBytes() {
        g.fill(ARG, 80, SENTINEL);
        assertEquals(0, g.call(XEN_VERSION, 4, ARG));
        assertArrayEquals(padded(XenVersionInfo.DEFAULT.changeset(), 64), g.bytes(ARG, 64));
        assertUnchanged(g, ARG + 64, filled(16), "after the 64 bytes");
        assertEquals(EFAULT, g.call(XEN_VERSION, 4, RAM - 63));
    }

    @Test
    void platformParametersIsAnEightByteZeroForA64BitCaller() {
        g.fill(ARG, 16, SENTINEL);
        assertEquals(0, g.call(XEN_VERSION, 5, ARG));
        assertEquals(0L, g.ram().get(U64, ARG), "virt_start: HVM guests have no hypervisor hole");
        assertUnchanged(g, ARG + 8, filled(8), "after the xen_ulong_t");
    }

    @Test
    void platformParametersIsAFourByteZeroForA32BitCaller() {
        g.fill(ARG, 16, SENTINEL);
        assertEquals(0, g.call32(XEN_VERSION, 5, ARG));
        assertEquals(0, g.ram().get(U32, ARG));
        assertUnchanged(g, ARG + 4, filled(12), "a 32-bit caller's xen_ulong_t is 4 bytes");
    }

    @Test
    void platformParametersInTheLastFourBytesOfRamFitsA32BitCallerOnly() {
        g.fill(RAM - 4, 4, SENTINEL);
        assertEquals(EFAULT, g.call(XEN_VERSION, 5, RAM - 4), "8 bytes do not fit");
        assertUnchanged(g, RAM - 4, filled(4), "nothing written on -EFAULT");
        assertEquals(0, g.call32(XEN_VERSION, 5, RAM - 4));
        assertEquals(0, g.ram().get(U32, RAM - 4));
    }

    @Test
    void featuresOfSubmapZeroAreXensHvmSetWithoutSupervisorModeKernel() {
        g.ram().set(U32, ARG, 0);
        g.ram().set(U32, ARG + 4, 0xFFFF_FFFF);
        assertEquals(0, g.call(XEN_VERSION, 6, ARG));
        int submap = g.ram().get(U32, ARG + 4);
        // writable_page_tables 0, auto_translated_physmap 2, hvm_callback_vector 8, hvm_safe_pvclock 9
        assertEquals(1 << 0 | 1 << 2 | 1 << 8 | 1 << 9, submap);
        assertEquals(0, submap & 1 << 3, "never supervisor_mode_kernel");
        assertEquals(0, g.ram().get(U32, ARG), "submap_idx is left as it was");
        assertEquals(0, g.call32(XEN_VERSION, 6, ARG), "same layout for a 32-bit caller");
        assertEquals(submap, g.ram().get(U32, ARG + 4));
    }

    @Test
    void anotherSubmapIsEinvalAndItsSubmapIsLeftAlone() {
        for (int idx : new int[] {1, 2, 0x8000_0000, -1}) {
            g.ram().set(U32, ARG, idx);
            g.ram().set(U32, ARG + 4, 0x1234_5678);
            assertEquals(EINVAL, g.call(XEN_VERSION, 6, ARG), "submap " + idx);
            assertEquals(0x1234_5678, g.ram().get(U32, ARG + 4), "out field untouched for submap " + idx);
        }
    }

    @Test
    void featuresOutsideRamIsEfault() {
        assertEquals(EFAULT, g.call(XEN_VERSION, 6, RAM - 4));
    }

    @Test
    void pagesizeIs4096WithANullArgumentAndEinvalWithAnother() {
        assertEquals(4096, g.call(XEN_VERSION, 7, 0));
        assertEquals(4096, g.call32(XEN_VERSION, 7, 0));
        assertEquals(EINVAL, g.call(XEN_VERSION, 7, ARG));
    }

    @Test
    void unknownSubOpsAreEnosysAndTouchNothing() {
        g.fill(ARG, 64, SENTINEL);
        for (long cmd : new long[] {8, 9, 10, 11, 255, 0x7FFF_FFFF, 0xFFFF_FFFFL, 0x8000_0000L}) {
            assertEquals(ENOSYS, g.call(XEN_VERSION, cmd, ARG), "cmd " + cmd);
        }
        assertUnchanged(g, ARG, filled(64), "the buffer");
    }

    @Test
    void everySubOpWithABufferWritesAllOrNothingAtTheEndOfRam() {
        // each struct straddles the end of RAM by one byte: nothing may be written
        int[][] sizes = {{1, 16}, {2, 144}, {3, 1024}, {4, 64}, {5, 8}, {6, 8}};
        for (int[] s : sizes) {
            long at = RAM - s[1] + 1;
            g.fill(at, s[1] - 1, SENTINEL);
            assertEquals(EFAULT, g.call(XEN_VERSION, s[0], at), "sub-op " + s[0]);
            assertUnchanged(g, at, filled(s[1] - 1), "sub-op " + s[0]);
        }
        assertTrue(g.bytes(RAM - 1, 1)[0] == (byte) SENTINEL);
    }

    private static byte[] filled(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) SENTINEL);
        return b;
    }
}
