package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.evtchnop.AllocUnbound;
import xen.evtchn.api.abi.evtchnop.BindInterdomain;
import xen.evtchn.api.abi.evtchnop.Close;
import xen.evtchn.api.abi.evtchnop.Reset;
import xen.evtchn.api.abi.evtchnop.Send;
import xen.evtchn.api.abi.evtchnop.Status;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.api.abi.hypercall.HvmParamArg;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestCall;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * Two guest domains of one host, each with its own vCPUs and memory, talking to the host only by
 * hypercalls: they share nothing but the interdomain channel both agreed to.
 */
class DomainIsolationTest {
    private static final long ARG = 0x2000;
    private final XenHost xen = new XenHost(new ManualTimerProvider(0), (domid, reason) -> { });
    private final List<SoftwareBackend> backends = new ArrayList<>();

    @AfterEach
    void close() {
        backends.forEach(SoftwareBackend::close);
    }

    private final class Dom {
        final SoftwareBackend b;
        final GuestEventChannels d;

        Dom(int domid) {
            b = new SoftwareBackend(domid, 1, 1 << 20, xen.dispatcher());
            backends.add(b);
            d = xen.createDomain(domid, GuestWidth.X86_64, b, XenVersionInfo.DEFAULT, DomainConsole.inMemory()).events();
        }

        MemorySegment arg(long size) {
            return b.memory().slice(ARG, size);
        }

        long call(int nr, long... args) {
            return xen.dispatcher().hypercall(GuestCall.of(nr, d.domid(), 0, true, b.memory(), args));
        }

        long evtchn(EvtchnOp op) {
            return call(Hypercall.EVENT_CHANNEL_OP, op.number(), ARG);
        }
    }

    @Test
    void aDomainCannotActOnAnotherOnesPortsParamsOrMemory() {
        Dom a = new Dom(1);
        Dom b = new Dom(2);
        int aPort = a.d.bindIpi(0);

        new Status(1, aPort, 0, 0, 0, 0).write(b.arg(24));
        assertEquals(-Errno.EPERM, b.evtchn(EvtchnOp.STATUS), "status of dom1's port");
        new AllocUnbound(1, 2, 0).write(b.arg(8));
        assertEquals(-Errno.EPERM, b.evtchn(EvtchnOp.ALLOC_UNBOUND), "alloc_unbound in dom1");
        new Reset(1).write(b.arg(2));
        assertEquals(-Errno.EPERM, b.evtchn(EvtchnOp.RESET), "reset of dom1");
        new Send(aPort).write(b.arg(4));
        assertEquals(-Errno.EINVAL, b.evtchn(EvtchnOp.SEND), "dom1's port number means dom2's own, unbound port");
        new Close(aPort).write(b.arg(4));
        assertEquals(-Errno.EINVAL, b.evtchn(EvtchnOp.CLOSE));
        assertEquals(EvtchnStat.IPI, a.d.status(DomId.SELF, aPort).status(), "dom1's port untouched");
        new BindInterdomain(1, aPort, 0).write(b.arg(12));
        assertEquals(-Errno.EINVAL, b.evtchn(EvtchnOp.BIND_INTERDOMAIN), "a port dom1 did not offer to dom2");

        new HvmParamArg(1, HvmParam.CALLBACK_IRQ, 0).write(b.arg(16));
        assertEquals(-Errno.EPERM, b.call(Hypercall.HVM_OP, HvmOp.GET_PARAM, ARG), "dom1's HVM params");
        new AddToPhysmap(1, 0, XenMapSpace.SHARED_INFO, 0, 0x10).write(b.arg(24), GuestWidth.X86_64);
        assertEquals(-Errno.EPERM, b.call(Hypercall.MEMORY_OP, XenMem.ADD_TO_PHYSMAP, ARG), "dom1's physmap");
    }

    @Test
    void aChannelBothAgreedToConnectsThemAndOnlyThem() {
        Dom a = new Dom(1);
        Dom b = new Dom(2);
        Dom c = new Dom(3);
        new AllocUnbound(DomId.SELF, 2, 0).write(a.arg(8));
        assertEquals(0, a.evtchn(EvtchnOp.ALLOC_UNBOUND));
        int offered = AllocUnbound.read(a.arg(8)).port();
        new BindInterdomain(1, offered, 0).write(c.arg(12));
        assertEquals(-Errno.EINVAL, c.evtchn(EvtchnOp.BIND_INTERDOMAIN), "offered to dom2, not dom3");
        new BindInterdomain(1, offered, 0).write(b.arg(12));
        assertEquals(0, b.evtchn(EvtchnOp.BIND_INTERDOMAIN));
        int bPort = BindInterdomain.read(b.arg(12)).localPort();
        assertTrue(b.d.isPending(bPort), "the new end is pending, as Xen marks it");

        new Send(bPort).write(b.arg(4));
        assertEquals(0, b.evtchn(EvtchnOp.SEND));
        assertTrue(a.d.isPending(offered), "dom2's send reaches dom1");
        assertFalse(c.d.isPending(offered), "and not dom3's port of the same number");
        assertEquals(2, a.d.status(DomId.SELF, offered).remoteDom());

        assertTrue(xen.destroyDomain(2));
        assertEquals(EvtchnStat.UNBOUND, a.d.status(DomId.SELF, offered).status(), "dom2 gone: dom1's end unbound");
    }
}
