package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.grant.GrantTableImage;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * What must hold for any save stream, for the fuzzers: it is refused with a SaveStreamException,
 * or it restores on a fresh host; a refused restore leaves nothing behind; a restored domain keeps
 * the host's invariants, takes events on every port and ticks its timers, and a save of it reads
 * back (a host never writes a stream it cannot read).
 */
final class RestoreCheck {
    static final int DOMID = 4;
    static final int RAM = 1 << 20;
    /** vCPUs a backend gets at most here; a stream with more is restored on a 1-vCPU backend, which must refuse it. */
    static final int MAX_VCPUS = 16;

    private RestoreCheck() {
    }

    /** Checks {@code stream}; {@code ram} (may be null) is the guest memory to restore it with. True if it was restored. */
    static boolean check(byte[] stream, MemorySegment ram) {
        DomainImage image;
        try {
            image = SaveStream.read(stream);
        } catch (SaveStreamException refused) {
            return false;
        }
        ManualTimerProvider timers = new ManualTimerProvider(0);
        XenHost host = new XenHost(timers, (domid, reason) -> { });
        int vcpus = image.vcpus() <= MAX_VCPUS ? image.vcpus() : 1;
        try (SoftwareBackend backend = new SoftwareBackend(DOMID, vcpus, RAM, host.dispatcher())) {
            if (ram != null) {
                backend.memory().ram().copyFrom(ram);
            }
            try {
                host.restoreDomain(DOMID, image, backend, DomainConsole.inMemory());
            } catch (SaveStreamException | IllegalStateException refused) {
                if (host.eventChannels().guest(DOMID) != null || host.domains().get(DOMID) != null
                        || !host.eventChannels().host().backends().isEmpty() || extraPageLeft(image, backend)) {
                    throw new AssertionError("a refused restore left state behind: " + refused.getMessage());
                }
                return false;
            }
            GuestEventChannels d = host.eventChannels().guest(DOMID);
            String broken = d.selfCheck();
            if (broken != null) {
                throw new AssertionError("after the restore: " + broken);
            }
            byte[] again = SaveStream.write(host.save(DOMID));
            try {
                SaveStream.read(again);
            } catch (SaveStreamException e) {
                throw new AssertionError("the host wrote a stream it cannot read: " + e.getMessage(), e);
            }
            for (int port = 0; port < d.validPorts(); port++) {
                d.injectEvent(port);
            }
            for (int v = 0; v < vcpus; v++) { // the save stopped them
                host.domains().get(DOMID).time().timers().restore(v, image.timers().get(v));
            }
            timers.advanceTo(timers.now() + 10_000_000_000L);
            broken = d.selfCheck();
            if (broken != null) {
                throw new AssertionError("after events and timers: " + broken);
            }
            host.destroyDomain(DOMID);
            return true;
        }
    }

    /** True if a grant frame the image had on an extra page is mapped in {@code backend}'s memory. */
    private static boolean extraPageLeft(DomainImage image, SoftwareBackend backend) {
        GrantTableImage g = image.grants();
        for (int i = 0; g != null && i < g.nrFrames(); i++) {
            if (g.onExtraPage(i) && backend.memory().extraPage(g.gpfns()[i]) != null) {
                return true;
            }
        }
        return false;
    }
}
