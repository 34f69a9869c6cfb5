package xen.store.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.ControlGuest;
import xen.store.backend.StoreBackend;
import xen.store.control.ShutdownControl.Answer;
import xen.store.control.ShutdownControl.Outcome;

/**
 * The toolstack's shutdown request against a store serving a real host on software vCPUs, the
 * guest's side played by {@link ControlGuest} (Linux's manage.c) through its ring, or by nothing
 * (a guest without PV control).
 */
class ShutdownControlTest {
    private static final Duration LONG = Duration.ofSeconds(20);
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final StoreBackend store = new StoreBackend(host, host, host, log::add);
    private final List<SoftwareBackend> vcpus = new ArrayList<>();
    private final ShutdownControl control = new ShutdownControl(store);

    ShutdownControlTest() {
        host.addListener(store);
    }

    @AfterEach
    void tearDown() {
        for (DomainHandle d : host.domains()) {
            host.destroyDomain(d.domid());
        }
        host.removeListener(store);
        store.deactivate();
        vcpus.forEach(SoftwareBackend::close);
        timers.close();
        assertEquals(List.of(), log);
    }

    private DomainHandle domain(int domid) throws InterruptedException {
        SoftwareBackend b = new SoftwareBackend(domid, 1, 64 << 10, host.hypercalls());
        vcpus.add(b);
        DomainHandle d = host.createDomain(domid, b, line -> { });
        waitFor(() -> store.domains().contains(domid));
        return d;
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + LONG.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "timed out");
            Thread.sleep(2);
        }
    }

    private String node(int domid) {
        return store.readString(ShutdownControl.path(domid));
    }

    @Test
    void aGuestWithPvControlAcknowledgesPoweroffAndReboot() throws Exception {
        DomainHandle d7 = domain(7);
        DomainHandle d8 = domain(8);
        try (ControlGuest g7 = ControlGuest.start(host, d7); ControlGuest g8 = ControlGuest.start(host, d8)) {
            Outcome off = control.request(7, ShutdownRequest.POWEROFF, LONG);
            assertEquals(new Outcome(7, ShutdownRequest.POWEROFF, Answer.ACKNOWLEDGED, off.waited()), off);
            assertTrue(off.waited().compareTo(LONG) < 0, off::toString);
            waitFor(() -> g7.taken().equals(List.of("poweroff")));
            assertEquals("", node(7), "the guest emptied the node");

            Outcome reboot = control.request(8, ShutdownRequest.REBOOT, LONG);
            assertEquals(Answer.ACKNOWLEDGED, reboot.answer());
            waitFor(() -> g8.taken().equals(List.of("reboot")));
            assertEquals(List.of(), g7.ignored());
        }
    }

    @Test
    void aGuestWithoutPvControlIsNotAcknowledgedInTimeAndTheRequestIsWithdrawn() throws Exception {
        DomainHandle d = domain(7);
        Duration wait = Duration.ofMillis(300);
        Outcome o = control.request(7, ShutdownRequest.POWEROFF, wait);
        assertEquals(Answer.NOT_ACKNOWLEDGED, o.answer());
        assertTrue(o.waited().compareTo(wait) >= 0, o::toString);
        assertEquals("", node(7), "withdrawn");

        // drivers that come up later see no stale poweroff, and take the next request
        try (ControlGuest g = ControlGuest.start(host, d)) {
            assertEquals(Answer.ACKNOWLEDGED, control.request(7, ShutdownRequest.REBOOT, LONG).answer());
            waitFor(() -> !g.taken().isEmpty());
            assertEquals(List.of("reboot"), g.taken());
            assertEquals(List.of(), g.ignored());
        }
    }

    @Test
    void anAcknowledgementIsAnyValueButTheRequest() throws Exception {
        domain(7);
        // a guest that answers with something else (not Linux, but libxl counts it too)
        try (var w = store.watch(ShutdownControl.path(7), "other", (p, t) -> {
            if (store.readString(ShutdownControl.path(7)).equals("poweroff")) {
                store.write(ShutdownControl.path(7), "done");
            }
        })) {
            assertEquals(Answer.ACKNOWLEDGED, control.request(7, ShutdownRequest.POWEROFF, LONG).answer());
            assertEquals("done", node(7));
        }
    }

    @Test
    void aDomainDestroyedWhileWaitingEndsTheWaitAndLeavesNoNode() throws Exception {
        domain(7);
        CompletableFuture<Outcome> waiting = CompletableFuture.supplyAsync(
                () -> control.request(7, ShutdownRequest.POWEROFF, LONG));
        waitFor(() -> node(7).equals("poweroff"));
        host.destroyDomain(7);
        assertEquals(Answer.DOMAIN_GONE, waiting.get(LONG.toSeconds(), TimeUnit.SECONDS).answer());
        assertEquals("ENOENT", assertThrows(XenStoreException.class, () -> store.read("/local/domain/7")).error());
    }

    @Test
    void anUnknownDomainIsRefusedAndGetsNoNode() {
        UnknownDomainException e = assertThrows(UnknownDomainException.class,
                () -> control.request(42, ShutdownRequest.POWEROFF, LONG));
        assertEquals(42, e.domid());
        assertEquals("no domain 42 in XenStore: /local/domain/42 does not exist", e.getMessage());
        assertEquals("ENOENT", assertThrows(XenStoreException.class, () -> store.read("/local/domain/42")).error());
    }

    @Test
    void theHostReservedIdsAndABadTimeoutAreRefused() {
        store.write("/local/domain/0/control/shutdown", "");
        assertEquals("domain 0 cannot be asked: domain 0 is the host", assertThrows(IllegalArgumentException.class,
                () -> control.request(0, ShutdownRequest.POWEROFF, LONG)).getMessage());
        assertEquals("", store.readString("/local/domain/0/control/shutdown"));
        assertEquals("domain 32752 cannot be asked: a reserved id", assertThrows(IllegalArgumentException.class,
                () -> control.request(0x7FF0, ShutdownRequest.POWEROFF, LONG)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> control.request(-1, ShutdownRequest.POWEROFF, LONG));
        assertThrows(IllegalArgumentException.class, () -> control.request(7, ShutdownRequest.POWEROFF, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> control.request(7, ShutdownRequest.POWEROFF, ShutdownControl.TIMEOUT_MAX.plusMillis(1)));
    }

    @Test
    void requestsAreNamedAsLibxlWritesThem() {
        assertEquals("poweroff", ShutdownRequest.POWEROFF.value());
        assertEquals("reboot", ShutdownRequest.REBOOT.value());
        assertEquals(ShutdownRequest.REBOOT, ShutdownRequest.parse("Reboot"));
        assertEquals("the request must be one of poweroff, reboot: got \"suspend\"",
                assertThrows(IllegalArgumentException.class, () -> ShutdownRequest.parse("suspend")).getMessage());
    }
}
