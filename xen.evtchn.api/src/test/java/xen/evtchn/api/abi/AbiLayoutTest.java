package xen.evtchn.api.abi;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Every number and layout of shared/reference/xen-abi.md, checked against the constants in
 * {@code xen.evtchn.api.abi}. The expected values are written out literally from the reference,
 * never derived from the code under test.
 */
class AbiLayoutTest {

    // ---- hypercall numbers ----------------------------------------------------------------

    @Test
    void hypercallNumbersAreXens() {
        assertAll(
                () -> assertEquals(12, Hypercall.MEMORY_OP, "memory_op"),
                () -> assertEquals(15, Hypercall.SET_TIMER_OP, "set_timer_op"),
                () -> assertEquals(16, Hypercall.EVENT_CHANNEL_OP_COMPAT, "event_channel_op_compat"),
                () -> assertEquals(17, Hypercall.XEN_VERSION, "xen_version"),
                () -> assertEquals(18, Hypercall.CONSOLE_IO, "console_io"),
                () -> assertEquals(20, Hypercall.GRANT_TABLE_OP, "grant_table_op"),
                () -> assertEquals(24, Hypercall.VCPU_OP, "vcpu_op"),
                () -> assertEquals(29, Hypercall.SCHED_OP, "sched_op"),
                () -> assertEquals(32, Hypercall.EVENT_CHANNEL_OP, "event_channel_op"),
                () -> assertEquals(33, Hypercall.PHYSDEV_OP, "physdev_op"),
                () -> assertEquals(34, Hypercall.HVM_OP, "hvm_op"),
                () -> assertEquals(5, Hypercall.MAX_ARGS, "five argument registers"));
    }

    // ---- errno ----------------------------------------------------------------------------

    private static Map<String, Integer> referenceErrno() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("EPERM", 1);
        m.put("ENOENT", 2);
        m.put("ESRCH", 3);
        m.put("EINTR", 4);
        m.put("EIO", 5);
        m.put("EAGAIN", 11);
        m.put("ENOMEM", 12);
        m.put("EACCES", 13);
        m.put("EFAULT", 14);
        m.put("EBUSY", 16);
        m.put("EEXIST", 17);
        m.put("ENODEV", 19);
        m.put("EINVAL", 22);
        m.put("ENOSPC", 28);
        m.put("ENOSYS", 38);
        m.put("ETIME", 62);
        m.put("EOPNOTSUPP", 95);
        m.put("ENOTCONN", 107);
        return m;
    }

    @Test
    void errnoValuesAreLinuxNumbering() {
        assertAll(
                () -> assertEquals(1, Errno.EPERM),
                () -> assertEquals(2, Errno.ENOENT),
                () -> assertEquals(3, Errno.ESRCH),
                () -> assertEquals(4, Errno.EINTR),
                () -> assertEquals(5, Errno.EIO),
                () -> assertEquals(11, Errno.EAGAIN),
                () -> assertEquals(12, Errno.ENOMEM),
                () -> assertEquals(13, Errno.EACCES),
                () -> assertEquals(14, Errno.EFAULT),
                () -> assertEquals(16, Errno.EBUSY),
                () -> assertEquals(17, Errno.EEXIST),
                () -> assertEquals(19, Errno.ENODEV),
                () -> assertEquals(22, Errno.EINVAL),
                () -> assertEquals(28, Errno.ENOSPC),
                () -> assertEquals(38, Errno.ENOSYS),
                () -> assertEquals(62, Errno.ETIME),
                () -> assertEquals(95, Errno.EOPNOTSUPP),
                () -> assertEquals(107, Errno.ENOTCONN));
    }

    @Test
    void errnoNameAcceptsBothSigns() {
        for (Map.Entry<String, Integer> e : referenceErrno().entrySet()) {
            int n = e.getValue();
            assertEquals(e.getKey(), Errno.name(n), "name(" + n + ")");
            assertEquals(e.getKey(), Errno.name(-n), "name(-" + n + ")");
            assertEquals(e.getKey(), Errno.name((long) -n), "name as a long rax value");
        }
    }

    @Test
    void errnoNameOfUnknownNumberShowsTheNumber() {
        assertEquals("E?99", Errno.name(99));
        assertEquals("E?99", Errno.name(-99));
        assertEquals("E?0", Errno.name(0));
    }

    @Test
    void errnoDescribeShowsResults() {
        assertEquals("7", Errno.describe(7));
        assertEquals("0", Errno.describe(0));
        assertEquals("-EINVAL", Errno.describe(-22));
        assertEquals("-ENOSPC", Errno.describe(-Errno.ENOSPC));
    }

    // ---- EVTCHNOP -------------------------------------------------------------------------

    @Test
    void evtchnOpNumbersAndArgumentSizes() {
        int[][] expected = {
                // number, size
                {0, 12}, {1, 12}, {2, 12}, {3, 4}, {4, 4}, {5, 24}, {6, 8},
                {7, 8}, {8, 8}, {9, 4}, {10, 2}, {11, 24}, {12, 8}, {13, 8}};
        EvtchnOp[] ops = {
                EvtchnOp.BIND_INTERDOMAIN, EvtchnOp.BIND_VIRQ, EvtchnOp.BIND_PIRQ, EvtchnOp.CLOSE,
                EvtchnOp.SEND, EvtchnOp.STATUS, EvtchnOp.ALLOC_UNBOUND, EvtchnOp.BIND_IPI,
                EvtchnOp.BIND_VCPU, EvtchnOp.UNMASK, EvtchnOp.RESET, EvtchnOp.INIT_CONTROL,
                EvtchnOp.EXPAND_ARRAY, EvtchnOp.SET_PRIORITY};
        assertEquals(14, EvtchnOp.values().length, "exactly the 14 ops of the reference");
        assertEquals(14, EnumSet.copyOf(java.util.List.of(ops)).size());
        for (int i = 0; i < ops.length; i++) {
            EvtchnOp op = ops[i];
            assertEquals(expected[i][0], op.number(), op + " number");
            assertEquals(expected[i][1], op.argSize(), op + " argument size");
            assertSame(op, EvtchnOp.of(expected[i][0]), "of(" + expected[i][0] + ")");
        }
    }

    @Test
    void evtchnOpOfUnknownCommandIsNull() {
        assertNull(EvtchnOp.of(14));
        assertNull(EvtchnOp.of(-1));
        assertNull(EvtchnOp.of(Integer.MIN_VALUE));
        assertNull(EvtchnOp.of(Integer.MAX_VALUE));
        assertNull(EvtchnOp.of(0x8000_0000));
    }

    // ---- VIRQ -----------------------------------------------------------------------------

    @Test
    void virqNumbersAndKinds() {
        Object[][] expected = {
                {Virq.TIMER, 0, VirqKind.PER_VCPU},
                {Virq.DEBUG, 1, VirqKind.PER_VCPU},
                {Virq.CONSOLE, 2, VirqKind.GLOBAL},
                {Virq.DOM_EXC, 3, VirqKind.GLOBAL},
                {Virq.TBUF, 4, VirqKind.GLOBAL},
                {Virq.DEBUGGER, 6, VirqKind.GLOBAL},
                {Virq.XENOPROF, 7, VirqKind.PER_VCPU},
                {Virq.CON_RING, 8, VirqKind.GLOBAL},
                {Virq.PCPU_STATE, 9, VirqKind.GLOBAL},
                {Virq.MEM_EVENT, 10, VirqKind.GLOBAL},
                {Virq.ARGO, 11, VirqKind.PER_DOMAIN},
                {Virq.ENOMEM, 12, VirqKind.GLOBAL},
                {Virq.XENPMU, 13, VirqKind.PER_VCPU},
                {Virq.ARCH_0, 16, VirqKind.GLOBAL},
                {Virq.ARCH_1, 17, VirqKind.GLOBAL},
                {Virq.ARCH_2, 18, VirqKind.GLOBAL},
                {Virq.ARCH_3, 19, VirqKind.GLOBAL},
                {Virq.ARCH_4, 20, VirqKind.GLOBAL},
                {Virq.ARCH_5, 21, VirqKind.GLOBAL},
                {Virq.ARCH_6, 22, VirqKind.GLOBAL},
                {Virq.ARCH_7, 23, VirqKind.GLOBAL}};
        assertEquals(expected.length, Virq.values().length, "no VIRQ beyond the reference's");
        for (Object[] row : expected) {
            Virq v = (Virq) row[0];
            int n = (Integer) row[1];
            assertEquals(n, v.number(), v + " number");
            assertEquals(row[2], v.kind(), v + " kind");
            assertSame(v, Virq.of(n), "of(" + n + ")");
            assertEquals(row[2], Virq.kindOf(n), "kindOf(" + n + ")");
        }
    }

    @Test
    void exactlyTheFourPerVcpuVirqs() {
        Set<Integer> perVcpu = new HashSet<>();
        for (int n = 0; n < Virq.COUNT; n++) {
            if (Virq.kindOf(n) == VirqKind.PER_VCPU) {
                perVcpu.add(n);
            }
        }
        assertEquals(Set.of(0, 1, 7, 13), perVcpu);
        assertEquals(VirqKind.PER_DOMAIN, Virq.kindOf(11), "ARGO is per-domain (Xen), not global (QEMU)");
    }

    @Test
    void virqCountIs24() {
        assertEquals(24, Virq.COUNT);
    }

    @Test
    void unassignedVirqNumbersAreGlobalAndHaveNoConstant() {
        for (int n : new int[] {5, 14, 15}) {
            assertNull(Virq.of(n), "VIRQ " + n + " is unassigned");
            assertEquals(VirqKind.GLOBAL, Virq.kindOf(n), "unassigned VIRQ " + n + " counts as global");
        }
        assertNull(Virq.of(24));
        assertNull(Virq.of(-1));
        assertNull(Virq.of(Integer.MIN_VALUE));
    }

    @Test
    void onlyPerVcpuVirqsMayBeBoundOnAnyVcpu() {
        assertFalse(VirqKind.PER_VCPU.boundOnVcpu0Only());
        assertTrue(VirqKind.PER_DOMAIN.boundOnVcpu0Only());
        assertTrue(VirqKind.GLOBAL.boundOnVcpu0Only());
    }

    // ---- EVTCHNSTAT, domids ---------------------------------------------------------------

    @Test
    void evtchnStatValues() {
        assertAll(
                () -> assertEquals(0, EvtchnStat.CLOSED),
                () -> assertEquals(1, EvtchnStat.UNBOUND),
                () -> assertEquals(2, EvtchnStat.INTERDOMAIN),
                () -> assertEquals(3, EvtchnStat.PIRQ),
                () -> assertEquals(4, EvtchnStat.VIRQ),
                () -> assertEquals(5, EvtchnStat.IPI));
        assertEquals("closed", EvtchnStat.name(0));
        assertEquals("unbound", EvtchnStat.name(1));
        assertEquals("interdomain", EvtchnStat.name(2));
        assertEquals("pirq", EvtchnStat.name(3));
        assertEquals("virq", EvtchnStat.name(4));
        assertEquals("ipi", EvtchnStat.name(5));
        assertTrue(EvtchnStat.name(6).contains("6"), "an unknown status names its number");
    }

    @Test
    void domidSelfAndHost() {
        assertEquals(0x7FF0, DomId.SELF);
        assertEquals(0x7FF0, DomId.FIRST_RESERVED);
        assertEquals(0, DomId.HOST);
        assertTrue(DomId.isReal(0));
        assertTrue(DomId.isReal(1));
        assertTrue(DomId.isReal(0x7FEF));
        assertFalse(DomId.isReal(0x7FF0), "DOMID_SELF is not a real domain");
        assertFalse(DomId.isReal(0x7FF2));
        assertFalse(DomId.isReal(0xFFFF));
        assertFalse(DomId.isReal(-1));
    }

    // ---- widths and layouts ---------------------------------------------------------------

    @Test
    void guestWidths() {
        assertEquals(64, GuestWidth.X86_64.wordBits());
        assertEquals(8, GuestWidth.X86_64.wordBytes());
        assertEquals(4096, GuestWidth.X86_64.twoLevelPorts());
        assertSame(SharedInfoLayout.X86_64, GuestWidth.X86_64.sharedInfo());
        assertSame(VcpuInfoLayout.X86_64, GuestWidth.X86_64.vcpuInfo());

        assertEquals(32, GuestWidth.X86_32.wordBits());
        assertEquals(4, GuestWidth.X86_32.wordBytes());
        assertEquals(1024, GuestWidth.X86_32.twoLevelPorts());
        assertSame(SharedInfoLayout.X86_32, GuestWidth.X86_32.sharedInfo());
        assertSame(VcpuInfoLayout.X86_32, GuestWidth.X86_32.vcpuInfo());
    }

    @Test
    void sharedInfoLayout64() {
        SharedInfoLayout s = SharedInfoLayout.X86_64;
        assertAll(
                () -> assertEquals(0x800, s.evtchnPending(), "evtchn_pending"),
                () -> assertEquals(0xA00, s.evtchnMask(), "evtchn_mask"),
                () -> assertEquals(0xC00, s.wcVersion(), "wc_version"),
                () -> assertEquals(0xC04, s.wcSec(), "wc_sec"),
                () -> assertEquals(0xC08, s.wcNsec(), "wc_nsec"),
                () -> assertEquals(0xC0C, s.wcSecHi(), "wc_sec_hi"),
                () -> assertEquals(0xC10, s.arch(), "arch"),
                () -> assertEquals(3136, s.size(), "sizeof(shared_info)"));
    }

    @Test
    void sharedInfoLayout32() {
        SharedInfoLayout s = SharedInfoLayout.X86_32;
        assertAll(
                () -> assertEquals(0x800, s.evtchnPending(), "evtchn_pending"),
                () -> assertEquals(0x880, s.evtchnMask(), "evtchn_mask"),
                () -> assertEquals(0x900, s.wcVersion(), "wc_version"),
                // wc_sec and wc_nsec follow wc_version as u32s (xen.h), then arch_shared_info
                () -> assertEquals(0x904, s.wcSec(), "wc_sec"),
                () -> assertEquals(0x908, s.wcNsec(), "wc_nsec"),
                () -> assertEquals(0x90C, s.arch(), "arch"),
                () -> assertEquals(0x924, s.wcSecHi(), "wc_sec_hi, last field of i386 arch_shared_info"),
                () -> assertEquals(2344, s.size(), "sizeof(shared_info)"));
    }

    @Test
    void bitmapsHoldOneBitPerPortAndDoNotOverlap() {
        for (GuestWidth w : GuestWidth.values()) {
            SharedInfoLayout s = w.sharedInfo();
            long bitmapBytes = w.twoLevelPorts() / 8;
            assertEquals(s.evtchnPending() + bitmapBytes, s.evtchnMask(), w + ": mask right after pending");
            assertEquals(s.evtchnMask() + bitmapBytes, s.wcVersion(), w + ": wc_version right after mask");
            assertEquals(0, s.evtchnPending() % w.wordBytes(), w + ": pending words aligned");
            assertEquals(0, s.evtchnMask() % w.wordBytes(), w + ": mask words aligned");
            assertTrue(s.wcSecHi() + 4 <= s.size(), w + ": wc_sec_hi inside shared_info");
            assertTrue(s.size() <= 4096, w + ": shared_info fits a page");
        }
    }

    @Test
    void legacyVcpuInfosEndBeforeEvtchnPending() {
        assertEquals(32, SharedInfoLayout.LEGACY_VCPUS);
        for (GuestWidth w : GuestWidth.values()) {
            SharedInfoLayout s = w.sharedInfo();
            assertEquals(0, s.vcpuInfo(0), w + ": vcpu_info[0] at 0");
            assertEquals(64, s.vcpuInfo(1), w + ": vcpu_info[1]");
            assertEquals(31 * 64, s.vcpuInfo(31), w + ": vcpu_info[31]");
            assertTrue(s.vcpuInfo(31) + VcpuInfoLayout.SIZE <= s.evtchnPending(),
                    w + ": vcpu_info[31] ends before evtchn_pending");
            assertEquals(s.evtchnPending(), s.vcpuInfo(SharedInfoLayout.LEGACY_VCPUS),
                    w + ": vcpu_info[32] would start exactly at evtchn_pending");
        }
    }

    @Test
    void vcpuInfoLayout64() {
        VcpuInfoLayout v = VcpuInfoLayout.X86_64;
        assertEquals(0, v.upcallPending(), "evtchn_upcall_pending");
        assertEquals(1, v.upcallMask(), "evtchn_upcall_mask");
        assertEquals(8, v.pendingSel(), "evtchn_pending_sel");
        assertEquals(16, v.arch(), "arch");
        assertEquals(32, v.time(), "time");
        assertEquals(64, v.size());
    }

    @Test
    void vcpuInfoLayout32() {
        VcpuInfoLayout v = VcpuInfoLayout.X86_32;
        assertEquals(0, v.upcallPending(), "evtchn_upcall_pending");
        assertEquals(1, v.upcallMask(), "evtchn_upcall_mask");
        assertEquals(4, v.pendingSel(), "evtchn_pending_sel");
        assertEquals(8, v.arch(), "arch");
        assertEquals(32, v.time(), "time");
        assertEquals(64, v.size());
    }

    @Test
    void vcpuInfoSizesAndTimeInfo() {
        assertEquals(64, VcpuInfoLayout.SIZE);
        assertEquals(32, VcpuTimeInfo.SIZE);
        for (GuestWidth w : GuestWidth.values()) {
            VcpuInfoLayout v = w.vcpuInfo();
            assertEquals(v.size(), v.time() + VcpuTimeInfo.SIZE, w + ": time info ends the struct");
            assertTrue(v.pendingSel() + w.wordBytes() <= v.arch(), w + ": pending_sel before arch");
            assertEquals(0, v.pendingSel() % w.wordBytes(), w + ": pending_sel aligned to its word");
            // one pending_sel bit per word of evtchn_pending
            assertEquals(w.wordBits(), w.twoLevelPorts() / w.wordBits(), w + ": pending_sel covers every word");
        }
    }
}
