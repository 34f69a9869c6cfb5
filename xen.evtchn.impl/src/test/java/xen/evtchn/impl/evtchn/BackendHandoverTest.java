package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.evtchn.HostBackends;

/**
 * A backend handed from one owner to the next by name ({@link EvtchnHandle#detach()},
 * {@link EvtchnHost#open(String)}): the ports stay bound, events sent while nobody owns them are
 * kept, and none is reported twice. Also the per-port counters the shell shows.
 */
class BackendHandoverTest {
    static final int GUEST = 3;

    Domains domains;
    SoftwareBackend vcpus;
    GuestEventChannels guest;
    EvtchnHost host;

    @BeforeEach
    void setUp() {
        domains = new Domains();
        domains.countEvents(true);
        vcpus = new SoftwareBackend(GUEST, 1, 1 << 20, call -> -Errno.ENOSYS);
        guest = domains.create(GUEST, GuestWidth.X86_64, vcpus);
        assertEquals(0, guest.mapSharedInfo(0x20));
        host = domains.host();
    }

    @AfterEach
    void tearDown() {
        vcpus.close();
    }

    /** A guest port offered to the host, bound by {@code h}: the host port. */
    int bind(EvtchnHandle h, int[] guestPort) throws EvtchnException {
        guestPort[0] = guest.allocUnbound(DomId.SELF, DomId.HOST);
        return h.bindInterdomain(GUEST, guestPort[0]);
    }

    @Test
    void eventsSentWhileParkedReachTheNextOwnerOnce() throws Exception {
        EvtchnHandle first = host.open("echo");
        int[] gp = new int[1];
        int port = bind(first, gp);
        BackendState parked = first.detach();
        assertEquals(new BackendState("echo", List.of(new BackendState.Binding(port, GUEST, gp[0]))), parked);
        assertTrue(host.isParked("echo"));
        assertEquals(List.of(parked), host.backends(), "parked handles are listed with their ports");

        assertEquals(0, guest.send(gp[0]));
        assertEquals(0, guest.send(gp[0]));
        assertEquals(-1, first.pending(), "the old owner sees nothing after detach");

        EvtchnHandle next = host.open("echo");
        assertFalse(host.isParked("echo"));
        assertEquals(parked, next.state(), "the same ports, now the new owner's");
        assertEquals(port, next.pending(1, TimeUnit.SECONDS), "the event sent while parked");
        assertEquals(-1, next.pending(), "two sends while masked are one event until the unmask");
        next.unmask(port);
        assertEquals(port, next.pending(), "the second arrival is delivered after the unmask, once");
        next.unmask(port);
        assertEquals(-1, next.pending());
        assertThrows(EvtchnException.class, () -> first.notify(port), "the old owner is closed");
        next.notify(port);
        assertTrue(guest.isPending(gp[0]));
        next.close();
        assertTrue(host.backends().isEmpty(), "closing frees the name");
    }

    @Test
    void anEventTheOldOwnerTookButDidNotUnmaskDoesNotBlockTheNextOne() throws Exception {
        EvtchnHandle first = host.open("b");
        int[] gp = new int[1];
        int port = bind(first, gp);
        guest.send(gp[0]);
        assertEquals(port, first.pending(), "taken by the first owner, which dealt with it");
        first.detach();
        guest.send(gp[0]);
        EvtchnHandle next = host.open("b");
        assertEquals(port, next.pending(), "a later event reaches the next owner");
        assertEquals(-1, next.pending());
        next.close();
    }

    @Test
    void namesAreCheckedAndOwnedOnce() throws Exception {
        EvtchnHandle open = host.open("x");
        assertEquals("a handle named \"x\" is open",
                assertThrows(IllegalStateException.class, () -> host.open("x")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> host.open(""));
        assertThrows(IllegalArgumentException.class, () -> host.open("n".repeat(EvtchnHost.MAX_NAME + 1)));
        EvtchnHandle anonymous = host.open();
        assertThrows(IllegalStateException.class, anonymous::detach, "only a named handle can be parked");
        assertEquals("", anonymous.state().name());
        anonymous.close();
        open.detach();
        assertThrows(IllegalStateException.class, open::detach, "once");
        host.open("x").close();
    }

    /** Many handovers while a sender keeps sending, each event acknowledged: none lost, none twice. */
    @Test
    void pingPongAcrossHandoversLosesAndDuplicatesNothing() throws Exception {
        EvtchnHandle h = host.open("echo");
        int[] gp = new int[1];
        int port = bind(h, gp);
        assertEquals(port, h.pending(), "binding raises the binder's port, as in Xen");
        h.unmask(port);
        AtomicLong acked = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        // The backend: one owner at a time, handing over every 50 events.
        Thread backend = Thread.ofPlatform().start(() -> {
            EvtchnHandle owner = h;
            try {
                long seen = 0;
                while (!stop.get()) {
                    int p = owner.pending(10, TimeUnit.MILLISECONDS);
                    if (p < 0) {
                        continue;
                    }
                    owner.notify(p);
                    owner.unmask(p);
                    if (++seen % 50 == 0) {
                        owner.detach();
                        owner = host.open("echo");
                    }
                }
                owner.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        int rounds = 2000;
        for (int i = 1; i <= rounds; i++) {
            long before = guest.raisedCount(gp[0]);
            assertEquals(0, guest.send(gp[0]));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (guest.raisedCount(gp[0]) == before) {
                assertTrue(System.nanoTime() < deadline, "event " + i + " was lost");
                Thread.onSpinWait();
            }
            acked.incrementAndGet();
        }
        Thread.sleep(50);
        stop.set(true);
        backend.join();
        assertEquals(rounds, guest.sentCount(gp[0]));
        assertEquals(rounds, guest.raisedCount(gp[0]), "one acknowledgement per event: none seen twice");
        assertEquals(rounds, domains.host() instanceof HostBackends hb ? hb.raisedCount(port) : -1,
                "every event arrived at the host port");
        assertEquals(rounds, acked.get());
    }

    @Test
    void countersStartAtZeroWhenAPortIsBoundAgain() {
        int ipi = guest.bindIpi(0);
        guest.send(ipi);
        guest.send(ipi);
        assertEquals(2, guest.sentCount(ipi));
        assertEquals(2, guest.raisedCount(ipi));
        assertEquals(0, guest.injectEvent(ipi));
        assertEquals(3, guest.raisedCount(ipi), "an inject is raised, not sent");
        assertEquals(2, guest.sentCount(ipi));
        guest.close(ipi);
        assertEquals(-Errno.EINVAL, guest.injectEvent(ipi), "a free port cannot be injected");
        assertEquals(ipi, guest.bindIpi(0));
        assertEquals(0, guest.sentCount(ipi));
        assertEquals(0, guest.raisedCount(ipi));
        assertEquals(-Errno.EINVAL, guest.injectEvent(5000));
    }
}
