package xen.store.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static xen.store.backend.StoreBackendTest.waitFor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;
import xen.store.tree.XsError;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * The store across an update of its bundle: the instance that goes parks the tree in the host
 * (each domain's part, and the rest under domain 0), the next one carries on from it: nodes,
 * watches, a half-sent request, nothing lost or answered twice, while a guest keeps writing.
 */
class StoreUpdateTest {
    private static final long RAM = 64 << 10;
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<SoftwareBackend> vcpus = new ArrayList<>();
    private StoreBackend store = start();

    private StoreBackend start() {
        StoreBackend s = new StoreBackend(host, host, host, log::add);
        host.addListener(s);
        host.addPart(s);
        return s;
    }

    /** What an update of the bundle does to the component: the old instance goes, a new one comes. */
    private void update() {
        host.removePart(store);
        host.removeListener(store);
        store.deactivate();
        store = start();
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
    }

    private RingGuest guest(int domid) throws InterruptedException {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
        vcpus.add(b);
        DomainHandle d = host.createDomain(domid, b, line -> { });
        waitFor(() -> store.domains().contains(domid));
        return new RingGuest(host, d);
    }

    @Test
    void theTreeWatchesAndAHalfSentRequestOutliveAnUpdate() throws Exception {
        RingGuest g = guest(1);
        RingGuest other = guest(2);
        assertEquals(List.of("OK"), g.call(XsType.WRITE, "data/x", "kept").strings());
        assertEquals(List.of("OK"), g.call(XsType.WATCH, "data", "w").strings());
        assertEquals(List.of("data", "w"), g.event().strings());
        store.write("/tool/setting", "on"); // the host's own node, in no domain's part
        store.write("/local/domain/0/backend/vif/1/0/state", "4");
        int tx = Integer.parseInt(other.call(XsType.TRANSACTION_START, "").strings().get(0));
        byte[] read = g.request(XsType.READ, 0, "data/x").encode();
        g.send(Arrays.copyOf(read, 20));
        waitFor(() -> g.page.get(RingGuest.U32, StoreRing.REQ_CONS) == g.page.get(RingGuest.U32, StoreRing.REQ_PROD));

        update();
        waitFor(() -> store.domains().containsAll(List.of(1, 2)));
        assertNull(host.take(1, StoreBackend.PART), "the new instance took what was parked");
        assertNull(host.take(0, StoreBackend.PART));
        g.send(Arrays.copyOfRange(read, 20, read.length));
        assertEquals("kept", new String(g.reply().payload()), "the request half sent before the update, answered once");
        assertEquals(List.of("data", "w"), g.event().strings(), "the watch fires once, re-registered");
        assertEquals(List.of("OK"), g.call(XsType.WRITE, "data/y", "1").strings());
        assertEquals(List.of("data/y", "w"), g.event().strings());
        assertEquals("on", store.readString("/tool/setting"));
        assertEquals("4", store.readString("/local/domain/0/backend/vif/1/0/state"));
        assertEquals("dom2", other.call(XsType.READ, "name").text());
        WireMessage end = other.callIn(tx, XsType.TRANSACTION_END, "T");
        assertEquals(List.of(XsError.EAGAIN.name()), end.strings(), "a transaction open across the update: EAGAIN");
        assertEquals(List.of(), g.drain());
        assertEquals(List.of(), log);
    }

    @Test
    void aDomainGoneDuringTheUpdateLeavesNothingAndANewOneGetsItsInitialTree() throws Exception {
        guest(1);
        host.removePart(store);
        host.removeListener(store);
        store.deactivate();
        host.destroyDomain(1);
        RingGuest fresh = guest0(3);
        store = start();
        waitFor(() -> store.domains().contains(3));
        assertEquals("dom3", fresh.call(XsType.READ, "name").text());
        assertEquals(List.of("3"), store.directory("/local/domain"), "dom1's nodes went with it");
        assertEquals(List.of(), log);
    }

    @Test
    void aRestoreAppliedWhileTheStoreGoesIsParkedForTheNextInstance() throws Exception {
        RingGuest g = guest(1);
        assertEquals(List.of("OK"), g.call(XsType.WRITE, "data/x", "saved").strings());
        byte[] saved = store.save(1);
        store.write("/local/domain/1/data/x", "later");
        StoreBackend old = store;
        host.removePart(old);
        host.removeListener(old);
        old.deactivate(); // parks "later"
        old.prepare(1, 1, saved).apply(); // a restore's apply reaching the instance that went: parked in its place
        store = start();
        waitFor(() -> store.domains().contains(1));
        assertEquals("saved", store.readString("/local/domain/1/data/x"));
        assertEquals(List.of(), log);
    }

    /** A domain made while no store runs. */
    private RingGuest guest0(int domid) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, host.hypercalls());
        vcpus.add(b);
        return new RingGuest(host, host.createDomain(domid, b, line -> { }));
    }

    @Test
    void everyWriteIsAcknowledgedOnceWhileTheStoreIsUpdatedAgainAndAgain() throws Exception {
        RingGuest g = guest(1);
        AtomicInteger acknowledged = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int writes = 400;
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 1; i <= writes; i++) {
                    WireMessage reply = g.call(XsType.WRITE, "data/n", Integer.toString(i)); // checks the reply's req_id
                    assertEquals(List.of("OK"), reply.strings(), reply::text);
                    acknowledged.incrementAndGet();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        for (int u = 0; u < 5; u++) {
            int before = acknowledged.get();
            waitFor(() -> acknowledged.get() > before || !writer.isAlive());
            update();
        }
        writer.join(60_000);
        if (failure.get() != null) {
            throw new AssertionError("the writer failed", failure.get());
        }
        assertEquals(writes, acknowledged.get());
        assertEquals(List.of(), g.drain(), "no reply twice");
        assertEquals(Integer.toString(writes), g.call(XsType.READ, "data/n").text());
        assertEquals("dom1", g.call(XsType.READ, "name").text(), "the tree intact");
        assertEquals(List.of(), g.events);
        assertTrue(log.isEmpty(), log::toString);
    }
}
