package benchmarks;

import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.host.XenHost;

/**
 * The domain the save/restore goal is about: 64-bit, 8 vCPUs, every one of its 4096 ports in use
 * (port 0 is reserved): per vCPU VIRQ_TIMER and an IPI, a global VIRQ, 64 channels to a named host
 * backend, 8 loops, and the rest unbound, offered to the host, as a guest's frontends leave them.
 * shared_info mapped, every vcpu_info registered, a callback vector and four vCPUs with vectors of
 * their own, a singleshot timer on every vCPU and a periodic one on vCPU 0.
 */
final class FullDomain {
    static final int DOMID = 1;
    static final int VCPUS = 8;
    static final long RAM = 1 << 20;

    private FullDomain() {
    }

    static Domain build(XenHost host, BenchVcpus vcpus) throws EvtchnException {
        Domain p = host.createDomain(DOMID, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
        GuestEventChannels d = p.events();
        check(d.mapSharedInfo(2));
        p.setParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(0xf3));
        for (int v = 0; v < VCPUS; v++) {
            check(d.registerVcpuInfo(v, 3, v * 64));
            if (v % 2 == 1) {
                d.upcalls().setVcpuVector(v, new UpcallRoute.LapicVector(0x40 + v));
            }
            check(d.bindVirq(Virq.TIMER.number(), v));
            check(d.bindIpi(v));
            p.time().timers().setSingleshot(v, p.time().clock().now() + (v + 1) * 1_000_000_000L);
        }
        check(p.time().timers().setPeriodic(0, 10_000_000L) + 1);
        check(d.bindVirq(Virq.CONSOLE.number(), 0));
        EvtchnHandle vbd = host.eventChannels().host().open("vbd");
        for (int i = 0; i < 64; i++) {
            vbd.bindInterdomain(DOMID, check(d.allocUnbound(DomId.SELF, DomId.HOST)));
        }
        for (int i = 0; i < 8; i++) {
            check(d.bindInterdomain(DomId.SELF, check(d.allocUnbound(DomId.SELF, DomId.SELF))));
        }
        while (d.allocUnbound(DomId.SELF, DomId.HOST) > 0) {
            // up to the limit
        }
        if (d.validPorts() != 4096 || d.allocUnbound(DomId.SELF, DomId.HOST) > 0) {
            throw new IllegalStateException("the domain is not full: " + d.validPorts());
        }
        return p;
    }

    private static int check(int rc) {
        if (rc < 0) {
            throw new IllegalStateException("setting up the domain failed: " + rc);
        }
        return rc;
    }
}
