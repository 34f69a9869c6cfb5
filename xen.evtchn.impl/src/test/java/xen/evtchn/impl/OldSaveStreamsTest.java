package xen.evtchn.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.hypercall.DomainConsole;
import xen.evtchn.impl.hypercall.DomainPlatform;
import xen.evtchn.impl.hypercall.XenVersionInfo;
import xen.evtchn.impl.save.ImageText;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

class OldSaveStreamsTest {
    static final long RAM = 1L << 20;

    interface Setup {
        void on(XenHost host, DomainPlatform p, ManualTimerProvider clock) throws EvtchnException;
    }

    record Case(String name, int domid, GuestWidth width, int vcpus, Setup setup) {
    }

    /** A 2-level domain with every kind of port, two named backends (one with an event it had not taken), timers, vectors. */
    static final Case EVERY_KIND = new Case("v1-every-kind", 2, GuestWidth.X86_64, 3, (host, p, clock) -> {
        GuestDomain d = p.domain();
        d.mapSharedInfo(2);
        d.registerVcpuInfo(0, 3, 0);
        d.registerVcpuInfo(1, 3, 64);
        p.setParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(0xf3));
        p.setParam(HvmParam.STORE_EVTCHN, 5);
        d.setVcpuVector(2, new UpcallRoute.LapicVector(0x41));
        d.bindVirq(Virq.TIMER.number(), 1);
        int console = d.bindVirq(Virq.CONSOLE.number(), 0);
        d.bindVcpu(console, 2);
        d.send(d.bindIpi(2));
        int loop = d.allocUnbound(DomId.SELF, DomId.SELF);
        d.bindInterdomain(DomId.SELF, loop);
        d.allocUnbound(DomId.SELF, 9);
        d.allocUnbound(DomId.SELF, 0xA93C);
        int toNet = d.allocUnbound(DomId.SELF, DomId.HOST);
        EvtchnHandle net = host.domains().host().open("net");
        net.bindInterdomain(2, toNet);
        d.send(toNet);
        int toBlk = d.allocUnbound(DomId.SELF, DomId.HOST);
        host.domains().host().open("blk").bindInterdomain(2, toBlk);
        d.allocUnbound(DomId.SELF, DomId.HOST); // one an anonymous handle would have had
        p.time().timers().setSingleshot(0, 5_000_000_000L);
        p.time().timers().setPeriodic(1, 4_000_000L);
    });

    /** A 32-bit 2-level domain that never mapped shared_info (the page travels), reset from FIFO with more valid ports than 2-level's 1024. */
    static final Case THIRTY_TWO_BIT = new Case("v1-x86_32-unmapped", 3, GuestWidth.X86_32, 2, (host, p, clock) -> {
        GuestDomain d = p.domain();
        new FifoGuest(d, d.vcpus().memory()).start(2, 0);
        for (int i = 0; i < 1500; i++) {
            d.bindIpi(0);
        }
        d.reset(DomId.SELF);
        d.send(d.bindIpi(1));
        MemorySegment shared = d.sharedInfo();
        shared.set(ValueLayout.JAVA_INT, GuestWidth.X86_32.sharedInfo().evtchnMask(), 0x10);
        p.time().timers().setPeriodic(0, 10_000_000L);
    });

    /** A FIFO domain: a priority, queued and masked events, a tail that moved to another queue, an event raised before its page. */
    static final Case FIFO = new Case("v2-fifo", 5, GuestWidth.X86_64, 2, (host, p, clock) -> {
        GuestDomain d = p.domain();
        d.mapSharedInfo(2);
        FifoGuest f = new FifoGuest(d, d.vcpus().memory()).start(2, 1);
        int a = d.bindIpi(0);
        int b = d.bindIpi(1);
        d.setPriority(a, 3);
        d.send(a);
        d.send(b);
        int masked = d.bindIpi(0);
        f.mask(masked);
        d.send(masked);
        int moved = d.bindIpi(0);
        d.send(moved);
        d.setPriority(moved, 4);
        int beyond = 0;
        while (beyond < 1030) {
            beyond = d.bindIpi(1);
        }
        for (int port = moved + 1; port < beyond; port++) {
            d.close(port);
        }
        d.send(beyond);
    });

    static DomainPlatform build(XenHost host, ManualTimerProvider clock, SoftwareBackend backend, Case c) throws EvtchnException {
        DomainPlatform p = host.createDomain(c.domid(), c.width(), backend, XenVersionInfo.DEFAULT.withVersion(4, 19),
                DomainConsole.inMemory());
        c.setup().on(host, p, clock);
        return p;
    }

    @Test
    void writeGolden() throws Exception {
        String dir = System.getProperty("save.golden.dir");
        if (dir == null) {
            return;
        }
        for (Case c : new Case[] {EVERY_KIND, THIRTY_TWO_BIT, FIFO}) {
            ManualTimerProvider clock = new ManualTimerProvider(0);
            XenHost host = new XenHost(clock, (d, r) -> { });
            try (SoftwareBackend backend = new SoftwareBackend(c.domid(), c.vcpus(), RAM, host.dispatcher())) {
                build(host, clock, backend, c);
                byte[] stream = SaveStream.write(host.save(c.domid()));
                StringBuilder hex = new StringBuilder();
                hex.append("# format version ").append(stream[8]).append(", ").append(stream.length)
                        .append(" bytes, written by SaveStream before version 3: OldSaveStreamsTest's ").append(c.name()).append('\n');
                for (int i = 0; i < stream.length; i += 32) {
                    hex.append(HexFormat.of().formatHex(stream, i, Math.min(stream.length, i + 32))).append('\n');
                }
                Files.writeString(Path.of(dir, c.name() + ".hex"), hex, StandardCharsets.US_ASCII);
                Files.writeString(Path.of(dir, c.name() + ".image.txt"), ImageText.of(SaveStream.read(stream)),
                        StandardCharsets.UTF_8);
            }
        }
    }
}
