package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.abi.hypercall.CallbackVia;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.grant.GrantTable;
import xen.evtchn.impl.save.PartImage;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.OldStreams;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.save.StreamSeal;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * One fuzz input for the restore stream: a valid stream of one of a few domains (fresh; every kind
 * of port with a named backend, timers and vectors; 32-bit and full; shared_info never mapped; on
 * the FIFO ABI with queued, masked and early events and priorities; a grant table of three frames,
 * in RAM, on an extra page in a hole and out of guest memory, an entry pinned; two optional bundles' parts
 * (PART records); and the streams of format
 * versions 1 and 2 that {@link OldSaveStreamsTest} keeps), perhaps with a record inserted between
 * two of a version-3 stream's (of a type known or not, optional or not), then changed as the input
 * says (bytes overwritten, inserted, removed), with its length and checksum made right again most
 * of the time so that the reader's own checks are what stands in the way. Then {@link RestoreCheck}
 * must hold.
 */
final class RestoreFuzzTarget {
    static final List<byte[]> SEEDS = List.of(fresh(), everyKind(), thirtyTwoBitFull(), neverMapped(), fifo(), grants(),
            withParts(), OldStreams.stream("v1-every-kind"), OldStreams.stream("v1-x86_32-unmapped"), OldStreams.stream("v2-fifo"));

    private RestoreFuzzTarget() {
    }

    /** True if the changed stream restored. */
    static boolean run(byte[] input) {
        HypercallFuzzTarget.Reader in = new HypercallFuzzTarget.Reader(input);
        byte[] s = SEEDS.get(in.u8() % SEEDS.size());
        boolean record = s[8] == SaveStream.VERSION_RECORDS && in.u8() % 4 == 0;
        if (record) {
            s = withRecord(s, in);
        }
        int changes = (record ? 0 : 1) + in.u8() % 8;
        for (int c = 0; c < changes; c++) {
            int at = (int) (in.u32() % (s.length + 1));
            s = switch (in.u8() % 5) {
                case 0, 1 -> overwrite(s, Math.min(at, s.length - 1), (byte) in.u8());
                case 2 -> insert(s, at, (byte) in.u8());
                case 3 -> remove(s, Math.min(at, s.length - 1));
                default -> overwrite(s, Math.min(at, s.length - 1), (byte) (s[Math.min(at, s.length - 1)] ^ 1 << in.u8() % 8));
            };
        }
        if (in.u8() % 10 != 0 && s.length >= StreamSeal.HEADER + 4) {
            s = StreamSeal.resealed(s);
        }
        return RestoreCheck.check(s, null);
    }

    /** A record of a type 0..11 (END, those known, one unknown) or any, optional or not, its body from the input, between two. */
    private static byte[] withRecord(byte[] s, HypercallFuzzTarget.Reader in) {
        List<Integer> records = StreamSeal.records(s);
        int at = records.get(in.u8() % records.size());
        int type = in.u8() % 2 == 0 ? in.u8() % 12 : (int) (in.u32() & 0xFFFF);
        byte[] body = new byte[in.u8() % 12];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) in.u8();
        }
        return StreamSeal.withRecord(s, at, type, in.u8() % 3, body);
    }

    private static byte[] overwrite(byte[] s, int at, byte b) {
        byte[] t = s.clone();
        t[at] = b;
        return t;
    }

    private static byte[] insert(byte[] s, int at, byte b) {
        byte[] t = new byte[s.length + 1];
        System.arraycopy(s, 0, t, 0, at);
        t[at] = b;
        System.arraycopy(s, at, t, at + 1, s.length - at);
        return t;
    }

    private static byte[] remove(byte[] s, int at) {
        byte[] t = new byte[s.length - 1];
        System.arraycopy(s, 0, t, 0, at);
        System.arraycopy(s, at + 1, t, at, s.length - at - 1);
        return t;
    }

    // ---- seeds ----

    private interface Setup {
        void on(XenHost host, Domain p) throws EvtchnException;
    }

    private static byte[] saved(GuestWidth width, int vcpus, Setup setup) {
        XenHost host = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        try (SoftwareBackend backend = new SoftwareBackend(2, vcpus, RestoreCheck.RAM, host.dispatcher())) {
            Domain p = host.createDomain(2, width, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
            setup.on(host, p);
            return SaveStream.write(host.save(2));
        } catch (EvtchnException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Two bundles' parts, both optional (the fuzzed host has no part: a mandatory one would refuse every restore). */
    private static byte[] withParts() {
        XenHost host = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
        try (SoftwareBackend backend = new SoftwareBackend(2, 1, RestoreCheck.RAM, host.dispatcher())) {
            host.createDomain(2, GuestWidth.X86_64, backend, XenVersionInfo.DEFAULT, DomainConsole.inMemory());
            return SaveStream.write(host.save(2).withParts(List.of(new PartImage("a.part", false, new byte[] {1, 2, 3}),
                    new PartImage("xen.store", false, new byte[0]))));
        }
    }

    private static byte[] fresh() {
        return saved(GuestWidth.X86_64, 1, (host, p) -> { });
    }

    private static byte[] everyKind() {
        return saved(GuestWidth.X86_64, 3, (host, p) -> {
            GuestEventChannels d = p.events();
            d.mapSharedInfo(2);
            d.registerVcpuInfo(1, 3, 64);
            p.setParam(HvmParam.CALLBACK_IRQ, CallbackVia.vector(0xf3));
            d.upcalls().setVcpuVector(2, new UpcallRoute.LapicVector(0x41));
            d.bindVirq(Virq.TIMER.number(), 1);
            int console = d.bindVirq(Virq.CONSOLE.number(), 0);
            d.bindVcpu(console, 2);
            d.send(d.bindIpi(2));
            int loop = d.allocUnbound(DomId.SELF, DomId.SELF);
            d.bindInterdomain(DomId.SELF, loop);
            d.allocUnbound(DomId.SELF, 9);
            int toHost = d.allocUnbound(DomId.SELF, DomId.HOST);
            EvtchnHandle h = host.eventChannels().host().open("net");
            h.bindInterdomain(2, toHost);
            d.allocUnbound(DomId.SELF, DomId.HOST); // one an anonymous handle would have had
            p.time().timers().setSingleshot(0, 5_000_000_000L);
            p.time().timers().setPeriodic(1, 4_000_000L);
        });
    }

    private static byte[] thirtyTwoBitFull() {
        return saved(GuestWidth.X86_32, 2, (host, p) -> {
            while (p.events().bindIpi(1) > 0) {
                // up to the 1024-port limit
            }
        });
    }

    private static byte[] fifo() {
        return saved(GuestWidth.X86_64, 2, (host, p) -> {
            GuestEventChannels d = p.events();
            FifoGuest f = new FifoGuest(d, p.events().vcpus().memory()).start(2, 1);
            int a = d.bindIpi(0);
            int b = d.bindIpi(1);
            d.setPriority(a, 3);
            d.send(a);
            d.send(b);
            f.mask(d.bindIpi(0));
            int beyond = 0;
            while (beyond < 1030) {
                beyond = d.bindIpi(1);
            }
            d.send(beyond);
        });
    }

    private static byte[] grants() {
        return saved(GuestWidth.X86_64, 1, (host, p) -> {
            GrantTable t = p.grants();
            t.mapFrame(0, 5);
            t.mapFrame(1, RestoreCheck.RAM / GuestMemory.PAGE_SIZE + 3); // a hole: an extra page
            t.grow(3);
            MemorySegment entries = p.events().vcpus().memory().page(5);
            entries.set(ValueLayout.JAVA_INT, 8, GrantEntry.word(GrantEntry.GTF_PERMIT_ACCESS, DomId.HOST));
            entries.set(ValueLayout.JAVA_INT, 12, 6); // entry 1 grants frame 6
            t.pin(1, true, true);
        });
    }

    private static byte[] neverMapped() {
        return saved(GuestWidth.X86_64, 2, (host, p) -> {
            GuestEventChannels d = p.events();
            d.send(d.bindIpi(0));
            MemorySegment shared = d.sharedInfo();
            shared.set(ValueLayout.JAVA_LONG, GuestWidth.X86_64.sharedInfo().evtchnMask(), -1L);
        });
    }
}
