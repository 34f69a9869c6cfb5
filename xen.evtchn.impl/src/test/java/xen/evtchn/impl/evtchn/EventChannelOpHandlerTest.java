package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EFAULT;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EINVAL;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOENT;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOSPC;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ENOSYS;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EOPNOTSUPP;
import static xen.evtchn.impl.evtchn.EvtchnFixture.EPERM;
import static xen.evtchn.impl.evtchn.EvtchnFixture.ESRCH;
import static xen.evtchn.impl.evtchn.EvtchnFixture.SELF;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLongArray;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.evtchnop.AllocUnbound;
import xen.evtchn.api.abi.evtchnop.BindInterdomain;
import xen.evtchn.api.abi.evtchnop.BindIpi;
import xen.evtchn.api.abi.evtchnop.BindPirq;
import xen.evtchn.api.abi.evtchnop.BindVcpu;
import xen.evtchn.api.abi.evtchnop.BindVirq;
import xen.evtchn.api.abi.evtchnop.Close;
import xen.evtchn.api.abi.evtchnop.ExpandArray;
import xen.evtchn.api.abi.evtchnop.InitControl;
import xen.evtchn.api.abi.evtchnop.Reset;
import xen.evtchn.api.abi.evtchnop.Send;
import xen.evtchn.api.abi.evtchnop.SetPriority;
import xen.evtchn.api.abi.evtchnop.Status;
import xen.evtchn.api.abi.evtchnop.Unmask;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;
import xen.evtchn.impl.hypercall.EventChannelOpHandler;

/**
 * HYPERVISOR_event_channel_op through {@link EventChannelOpHandler}: the op struct in guest memory,
 * out fields written back on success only, -EFAULT and -ENOSYS, both widths.
 */
class EventChannelOpHandlerTest extends EvtchnTestBase {
    private static final int SENTINEL = 0xDEADBEEF;
    /** Where the tests put op structs: below shared_info (gfn 0x10), well inside RAM. */
    private static final long ARG = 0x3000;
    private static final int BIND_INTERDOMAIN = 0;
    private static final int BIND_VIRQ = 1;
    private static final int BIND_PIRQ = 2;
    private static final int CLOSE = 3;
    private static final int SEND = 4;
    private static final int STATUS = 5;
    private static final int ALLOC_UNBOUND = 6;
    private static final int BIND_IPI = 7;
    private static final int BIND_VCPU = 8;
    private static final int UNMASK = 9;
    private static final int RESET = 10;
    private static final int INIT_CONTROL = 11;
    private static final int EXPAND_ARRAY = 12;
    private static final int SET_PRIORITY = 13;

    private static MemorySegment at(Guest g, long address, long size) {
        return g.memory().ram().asSlice(address, size);
    }

    private long call(Guest g, int cmd, long address) {
        return fx.handler.hypercall(EvtchnFixture.evtchnCall(g, Integer.toUnsignedLong(cmd), address));
    }

    private static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    // ---- each op: success writes the out field, failure leaves the sentinel ----------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_viaHandler_writesPortOut(GuestWidth w) {
        Guest g = guest(w);
        MemorySegment s = at(g, ARG, 8);
        new AllocUnbound(SELF, SELF, SENTINEL).write(s);
        assertEquals(0, call(g, ALLOC_UNBOUND, ARG));
        assertEquals(1, GuestField.u32(s, 4), "port out @4");
        assertEquals(SELF, GuestField.u16(s, 0), "in field dom intact");
        assertEquals(SELF, GuestField.u16(s, 2), "in field remote_dom intact");
        assertEquals(EvtchnStat.UNBOUND, g.status(1).status());
        assertEquals(1, g.status(1).remoteDom());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void allocUnbound_viaHandler_failure_outFieldKeepsSentinel(GuestWidth w) {
        Guest g = guest(w);
        fx.guest(2, w, 1);
        MemorySegment s = at(g, ARG, 8);
        new AllocUnbound(77, SELF, SENTINEL).write(s);
        assertEquals(ESRCH, call(g, ALLOC_UNBOUND, ARG));
        assertEquals(SENTINEL, GuestField.u32(s, 4));
        new AllocUnbound(2, SELF, SENTINEL).write(s);
        assertEquals(EPERM, call(g, ALLOC_UNBOUND, ARG));
        assertEquals(SENTINEL, GuestField.u32(s, 4));
        g.fill();
        new AllocUnbound(SELF, SELF, SENTINEL).write(s);
        assertEquals(ENOSPC, call(g, ALLOC_UNBOUND, ARG));
        assertEquals(SENTINEL, GuestField.u32(s, 4));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_viaHandler_writesLocalPortOut(GuestWidth w) {
        Guest g = guest(w);
        int u = g.d.allocUnbound(SELF, SELF);
        MemorySegment s = at(g, ARG, 12);
        new BindInterdomain(SELF, u, SENTINEL).write(s);
        assertEquals(0, call(g, BIND_INTERDOMAIN, ARG));
        assertEquals(2, GuestField.u32(s, 8), "local_port out @8");
        assertEquals(EvtchnStat.INTERDOMAIN, g.status(2).status());
        assertEquals(u, g.status(2).remotePort());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindInterdomain_viaHandler_failure_outFieldKeepsSentinel(GuestWidth w) {
        Guest g = guest(w);
        g.d.allocUnbound(SELF, 5);
        MemorySegment s = at(g, ARG, 12);
        int[][] cases = {{77, 1, ESRCH}, {SELF, 1, EINVAL}, {SELF, g.limit, EINVAL}, {SELF, -1, EINVAL}};
        for (int[] c : cases) {
            new BindInterdomain(c[0], c[1], SENTINEL).write(s);
            assertEquals(c[2], call(g, BIND_INTERDOMAIN, ARG), "remote " + c[0] + ":" + c[1]);
            assertEquals(SENTINEL, GuestField.u32(s, 8));
        }
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_viaHandler_writesPortOut(GuestWidth w) {
        Guest g = guest(w);
        MemorySegment s = at(g, ARG, 12);
        new BindVirq(0, 1, SENTINEL).write(s);
        assertEquals(0, call(g, BIND_VIRQ, ARG));
        assertEquals(1, GuestField.u32(s, 8), "port out @8");
        assertEquals(EvtchnStat.VIRQ, g.status(1).status());
        assertEquals(1, g.status(1).vcpu());
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVirq_viaHandler_failure_outFieldKeepsSentinel(GuestWidth w) {
        Guest g = guest(w);
        g.d.bindVirq(0, 0);
        MemorySegment s = at(g, ARG, 12);
        int[][] cases = {{24, 0, EINVAL}, {-1, 0, EINVAL}, {2, 1, EINVAL}, {0, 2, ENOENT}, {0, 0, -17}};
        for (int[] c : cases) {
            new BindVirq(c[0], c[1], SENTINEL).write(s);
            assertEquals(c[2], call(g, BIND_VIRQ, ARG), "virq " + c[0] + " vcpu " + c[1]);
            assertEquals(SENTINEL, GuestField.u32(s, 8));
        }
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindIpi_viaHandler_writesPortOut_failureKeepsSentinel(GuestWidth w) {
        Guest g = guest(w);
        MemorySegment s = at(g, ARG, 8);
        new BindIpi(1, SENTINEL).write(s);
        assertEquals(0, call(g, BIND_IPI, ARG));
        assertEquals(1, GuestField.u32(s, 4), "port out @4");
        new BindIpi(9, SENTINEL).write(s);
        assertEquals(ENOENT, call(g, BIND_IPI, ARG));
        assertEquals(SENTINEL, GuestField.u32(s, 4));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindPirq_viaHandler_enosys_outFieldKeepsSentinel(GuestWidth w) {
        Guest g = guest(w);
        MemorySegment s = at(g, ARG, 12);
        new BindPirq(3, BindPirq.WILL_SHARE, SENTINEL).write(s);
        assertEquals(ENOSYS, call(g, BIND_PIRQ, ARG));
        assertEquals(SENTINEL, GuestField.u32(s, 8));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void closeSendUnmask_viaHandler(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        MemorySegment s = at(g, ARG, 4);
        new Send(p).write(s);
        assertEquals(0, call(g, SEND, ARG));
        g.assertDelivered(p, 0);
        new Send(g.limit).write(s);
        assertEquals(EINVAL, call(g, SEND, ARG));

        int q = g.d.bindIpi(0);
        g.mask(q);
        g.d.send(q);
        g.setUpcallPending(0, 0);
        g.setPendingSel(0, 0);
        new Unmask(q).write(s);
        assertEquals(0, call(g, UNMASK, ARG));
        assertFalse(g.masked(q));
        assertEquals(2, g.upcalls(0));
        new Unmask(-1).write(s);
        assertEquals(EINVAL, call(g, UNMASK, ARG));

        new Close(p).write(s);
        assertEquals(0, call(g, CLOSE, ARG));
        assertEquals(EvtchnStat.CLOSED, g.status(p).status());
        assertEquals(EINVAL, call(g, CLOSE, ARG), "closing twice");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void bindVcpu_viaHandler(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, SELF);
        MemorySegment s = at(g, ARG, 8);
        new BindVcpu(p, 1).write(s);
        assertEquals(0, call(g, BIND_VCPU, ARG));
        assertEquals(1, g.status(p).vcpu());
        new BindVcpu(p, 7).write(s);
        assertEquals(ENOENT, call(g, BIND_VCPU, ARG));
        new BindVcpu(g.limit, 0).write(s);
        assertEquals(EINVAL, call(g, BIND_VCPU, ARG));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void reset_viaHandler(GuestWidth w) {
        Guest g = guest(w);
        fx.guest(2, w, 1);
        int p = g.d.bindIpi(0);
        MemorySegment s = at(g, ARG, 2);
        new Reset(2).write(s);
        assertEquals(EPERM, call(g, RESET, ARG));
        new Reset(77).write(s);
        assertEquals(ESRCH, call(g, RESET, ARG));
        assertEquals(EvtchnStat.IPI, g.status(p).status());
        new Reset(SELF).write(s);
        assertEquals(0, call(g, RESET, ARG));
        assertEquals(EvtchnStat.CLOSED, g.status(p).status());
    }

    // ---- status: out fields at 8/12/16/20 --------------------------------------------------------

    private static MemorySegment statusStruct(Guest g, int dom, int port) {
        MemorySegment s = at(g, ARG, 24);
        new Status(dom, port, SENTINEL, SENTINEL, SENTINEL, SENTINEL).write(s);
        return s;
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_viaHandler_unbound_outFields(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.allocUnbound(SELF, 0x123);
        g.d.bindVcpu(p, 1);
        MemorySegment s = statusStruct(g, SELF, p);
        assertEquals(0, call(g, STATUS, ARG));
        assertAll(
                () -> assertEquals(EvtchnStat.UNBOUND, GuestField.u32(s, 8), "status @8"),
                () -> assertEquals(1, GuestField.u32(s, 12), "vcpu @12"),
                () -> assertEquals(0x123, GuestField.u16(s, 16), "unbound.dom @16"),
                () -> assertEquals(SENTINEL >>> 16, GuestField.u16(s, 18), "rest of the union untouched, as Xen"),
                () -> assertEquals(SENTINEL, GuestField.u32(s, 20), "rest of the union untouched, as Xen"),
                () -> assertEquals(SELF, GuestField.u16(s, 0), "dom in-field intact"),
                () -> assertEquals(p, GuestField.u32(s, 4), "port in-field intact"));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_viaHandler_interdomain_outFields(GuestWidth w) {
        Guest a = guest(w);
        Guest b = fx.guest(2, w, 1);
        b.d.allocUnbound(SELF, SELF);
        int pa = a.d.allocUnbound(SELF, 2);
        int pb = b.d.bindInterdomain(1, pa);
        assertEquals(2, pb);
        MemorySegment s = statusStruct(a, SELF, pa);
        assertEquals(0, call(a, STATUS, ARG));
        assertAll(
                () -> assertEquals(EvtchnStat.INTERDOMAIN, GuestField.u32(s, 8)),
                () -> assertEquals(0, GuestField.u32(s, 12)),
                () -> assertEquals(2, GuestField.u16(s, 16), "interdomain.dom @16"),
                () -> assertEquals(pb, GuestField.u32(s, 20), "interdomain.port @20"));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_viaHandler_virqIpiClosed_outFields(GuestWidth w) {
        Guest g = guest(w);
        int v = g.d.bindVirq(0, 1);
        int i = g.d.bindIpi(1);
        MemorySegment s = statusStruct(g, SELF, v);
        assertEquals(0, call(g, STATUS, ARG));
        assertEquals(EvtchnStat.VIRQ, GuestField.u32(s, 8));
        assertEquals(1, GuestField.u32(s, 12));
        assertEquals(0, GuestField.u32(s, 16), "virq @16 = TIMER 0");

        MemorySegment s2 = statusStruct(g, g.domid(), i);
        assertEquals(0, call(g, STATUS, ARG));
        assertEquals(EvtchnStat.IPI, GuestField.u32(s2, 8));
        assertEquals(1, GuestField.u32(s2, 12));

        MemorySegment s3 = statusStruct(g, SELF, 0);
        assertEquals(0, call(g, STATUS, ARG));
        assertEquals(EvtchnStat.CLOSED, GuestField.u32(s3, 8), "port 0 closed");

        int c = g.d.bindVirq(2, 0);
        MemorySegment s4 = statusStruct(g, SELF, c);
        assertEquals(0, call(g, STATUS, ARG));
        assertEquals(2, GuestField.u32(s4, 16), "virq @16 = CONSOLE 2");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void status_viaHandler_failure_outFieldsKeepSentinels(GuestWidth w) {
        Guest g = guest(w);
        fx.guest(2, w, 1);
        g.d.allocUnbound(SELF, SELF);
        int[][] cases = {{2, 1, EPERM}, {0, 1, EPERM}, {77, 1, ESRCH}, {SELF, g.limit, EINVAL}, {SELF, -1, EINVAL}};
        for (int[] c : cases) {
            MemorySegment s = statusStruct(g, c[0], c[1]);
            assertEquals(c[2], call(g, STATUS, ARG), "dom " + c[0] + " port " + c[1]);
            for (int off = 8; off < 24; off += 4) {
                assertEquals(SENTINEL, GuestField.u32(s, off), "offset " + off);
            }
        }
    }

    // ---- FIFO ops, unknown cmds, faults, alignment -----------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void fifoOps_viaHandler(GuestWidth w) {
        Guest g = guest(w);
        int p = g.d.bindIpi(0);
        MemorySegment s = at(g, ARG, 24);
        new SetPriority(p, 3).write(s);
        assertEquals(ENOSYS, call(g, SET_PRIORITY, ARG), "2-level: no priorities");
        new ExpandArray(0x21).write(s);
        assertEquals(EOPNOTSUPP, call(g, EXPAND_ARRAY, ARG), "before init_control");
        new InitControl(0x20, 4, 0, 0xAB).write(s);
        assertEquals(EINVAL, call(g, INIT_CONTROL, ARG));
        assertEquals(0xAB, GuestField.u8(s, 16), "link_bits not written on failure");
        new InitControl(0x20, 0, 0, 0xAB).write(s);
        assertEquals(0, call(g, INIT_CONTROL, ARG));
        assertEquals(17, GuestField.u8(s, 16), "link_bits");
        new ExpandArray(0x21).write(s);
        assertEquals(0, call(g, EXPAND_ARRAY, ARG));
        new SetPriority(p, 3).write(s);
        assertEquals(0, call(g, SET_PRIORITY, ARG));
        new SetPriority(p, 16).write(s);
        assertEquals(EINVAL, call(g, SET_PRIORITY, ARG));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void unknownCmd_enosys_memoryUntouched(GuestWidth w) {
        Guest g = guest(w);
        MemorySegment s = at(g, ARG, 64);
        s.fill((byte) 0x5A);
        byte[] before = bytes(s);
        for (int cmd : new int[] {14, 15, 99, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertEquals(ENOSYS, call(g, cmd, ARG), "cmd " + cmd);
            assertEquals(ENOSYS, call(g, cmd, EvtchnFixture.RAM + 0x1000), "cmd " + cmd + " with a bad address");
        }
        assertArrayEquals(before, bytes(s));
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "no port allocated");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void structOutsideRam_efault_nothingChanged(GuestWidth w) {
        Guest g = guest(w);
        long ram = EvtchnFixture.RAM;
        long[] addresses = {ram, ram + 4096, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 0xFFFFFFFFL + ram};
        MemorySegment tail = at(g, ram - 64, 64);
        tail.fill((byte) 0x11);
        byte[] before = bytes(tail);
        for (long a : addresses) {
            assertEquals(EFAULT, call(g, ALLOC_UNBOUND, a), "alloc_unbound at 0x" + Long.toHexString(a));
            assertEquals(EFAULT, call(g, BIND_IPI, a), "bind_ipi at 0x" + Long.toHexString(a));
            assertEquals(EFAULT, call(g, STATUS, a), "status at 0x" + Long.toHexString(a));
            assertEquals(EFAULT, call(g, RESET, a), "reset at 0x" + Long.toHexString(a));
        }
        assertArrayEquals(before, bytes(tail), "RAM's tail untouched");
        assertEquals(1, g.d.allocUnbound(SELF, SELF), "nothing was allocated");
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void structStraddlingEndOfRam_efault(GuestWidth w) {
        Guest g = guest(w);
        long ram = EvtchnFixture.RAM;
        MemorySegment s = at(g, ram - 24, 24);
        // status is 24 bytes: at ram-23 its last byte is past the end
        new Status(SELF, 0, SENTINEL, SENTINEL, SENTINEL, SENTINEL).write(s);
        assertEquals(EFAULT, call(g, STATUS, ram - 23));
        assertEquals(EFAULT, call(g, ALLOC_UNBOUND, ram - 7), "8-byte struct, 7 bytes left");
        assertEquals(EFAULT, call(g, CLOSE, ram - 3), "4-byte struct, 3 bytes left");
        assertEquals(EFAULT, call(g, RESET, ram - 1), "2-byte struct, 1 byte left");
        assertEquals(SENTINEL, GuestField.u32(s, 8));
        assertEquals(1, g.d.allocUnbound(SELF, SELF));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void structEndingExactlyAtEndOfRam_works(GuestWidth w) {
        Guest g = guest(w);
        long ram = EvtchnFixture.RAM;
        MemorySegment s = at(g, ram - 8, 8);
        new AllocUnbound(SELF, SELF, SENTINEL).write(s);
        assertEquals(0, call(g, ALLOC_UNBOUND, ram - 8));
        assertEquals(1, GuestField.u32(s, 4));
    }

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void structAtUnalignedAddress_works(GuestWidth w) {
        Guest g = guest(w);
        long addr = ARG + 3;
        MemorySegment s = at(g, addr, 24);
        new AllocUnbound(SELF, SELF, SENTINEL).write(s);
        assertEquals(0, call(g, ALLOC_UNBOUND, addr));
        assertEquals(1, GuestField.u32(s, 4));

        new Status(SELF, 1, SENTINEL, SENTINEL, SENTINEL, SENTINEL).write(s);
        assertEquals(0, call(g, STATUS, addr));
        assertEquals(EvtchnStat.UNBOUND, GuestField.u32(s, 8));
        assertEquals(1, GuestField.u16(s, 16));

        long odd = ARG + 0x201;
        MemorySegment b = at(g, odd, 12);
        new BindVirq(0, 1, SENTINEL).write(b);
        assertEquals(0, call(g, BIND_VIRQ, odd));
        assertEquals(2, GuestField.u32(b, 8));
    }

    @Test
    void x86_32_allocUntilFullViaHandler_highestPort1023() {
        Guest g = guest(GuestWidth.X86_32);
        MemorySegment s = at(g, ARG, 8);
        int highest = 0;
        for (int i = 0; i < 2000; i++) {
            new AllocUnbound(SELF, SELF, SENTINEL).write(s);
            long rc = call(g, ALLOC_UNBOUND, ARG);
            if (rc != 0) {
                assertEquals(ENOSPC, rc);
                assertEquals(SENTINEL, GuestField.u32(s, 4));
                break;
            }
            highest = GuestField.u32(s, 4);
            assertTrue(highest > 0 && highest < 1024, "port " + highest);
        }
        assertEquals(1023, highest);
    }

    @Test
    void x86_32_caller_cmdAndAddressZeroExtended() {
        Guest g = guest(GuestWidth.X86_32);
        // a 32-bit guest's cmd 0xFFFFFFFF arrives zero-extended; it is still an unknown cmd
        assertEquals(ENOSYS, fx.handler.hypercall(
                GuestCall.of(Hypercall.EVENT_CHANNEL_OP, 1, 0, false, g.memory(), 0xFFFFFFFFL, ARG)));
        assertEquals(EFAULT, fx.handler.hypercall(
                GuestCall.of(Hypercall.EVENT_CHANNEL_OP, 1, 0, false, g.memory(), ALLOC_UNBOUND, 0xFFFFFFFFL)));
    }

    // ---- the software vCPU's own hypercall path ------------------------------------------------

    @ParameterizedTest
    @EnumSource(GuestWidth.class)
    void viaSoftwareVcpuHypercall_allocBindIpiSendStatus(GuestWidth w) throws InterruptedException {
        Guest g = guest(w);
        SoftwareBackend b = g.b;
        AtomicLongArray rc = new AtomicLongArray(6);
        MemorySegment alloc = at(g, 0x4000, 8);
        MemorySegment ipi = at(g, 0x4100, 8);
        MemorySegment send = at(g, 0x4200, 4);
        MemorySegment status = at(g, 0x4300, 24);
        b.start(cpu -> {
            if (cpu.id() != 0) {
                return;
            }
            new AllocUnbound(SELF, SELF, SENTINEL).write(alloc);
            rc.set(0, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, ALLOC_UNBOUND, 0x4000));
            new BindIpi(1, SENTINEL).write(ipi);
            rc.set(1, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, BIND_IPI, 0x4100));
            new Send(GuestField.u32(ipi, 4)).write(send);
            rc.set(2, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, SEND, 0x4200));
            new Status(SELF, GuestField.u32(ipi, 4), SENTINEL, SENTINEL, SENTINEL, SENTINEL).write(status);
            rc.set(3, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, STATUS, 0x4300));
            rc.set(4, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, 99, 0x4300));
            rc.set(5, cpu.hypercall(Hypercall.EVENT_CHANNEL_OP, CLOSE, EvtchnFixture.RAM));
        });
        assertTrue(b.join(Duration.ofSeconds(10)), "guest code returned");
        assertEquals(0, rc.get(0), "alloc_unbound");
        assertEquals(1, GuestField.u32(alloc, 4));
        assertEquals(0, rc.get(1), "bind_ipi");
        assertEquals(2, GuestField.u32(ipi, 4));
        assertEquals(0, rc.get(2), "send");
        assertEquals(0, rc.get(3), "status");
        assertEquals(EvtchnStat.IPI, GuestField.u32(status, 8));
        assertEquals(1, GuestField.u32(status, 12));
        assertEquals(ENOSYS, rc.get(4), "unknown cmd");
        assertEquals(EFAULT, rc.get(5), "struct outside RAM");
        g.assertDelivered(2, 1);
        assertEquals(1, g.upcalls(1), "the IPI's upcall reached vCPU 1");
    }
}
