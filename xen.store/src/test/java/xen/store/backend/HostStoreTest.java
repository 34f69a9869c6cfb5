package xen.store.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.evtchn.api.store.XenStoreWatch;
import xen.store.tree.Quotas;
import xen.store.tree.Store;
import xen.store.wire.Connection;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * The host's XenStore over a tree, its calls run on a thread standing for the store's, with guest
 * 5 talking through a {@link Connection} on that same thread, as StoreBackend has it.
 */
class HostStoreTest {
    private final Store tree = new Store(Quotas.DEFAULTS);
    private final ExecutorService storeThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "store"));
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final HostStore host = new HostStore(tree, new HostStore.Serial() {
        @Override
        public <T> T call(Supplier<T> op) {
            return onStoreThread(op);
        }
    }, log::add);
    private final Connection guest = onStoreThread(() -> {
        tree.introduceDomain(5);
        return new Connection(tree, 5);
    });
    private final List<String> events = new CopyOnWriteArrayList<>();
    private int reqId;

    @AfterEach
    void tearDown() {
        host.close();
        storeThread.shutdownNow();
        assertEquals(List.of(), log);
    }

    private <T> T onStoreThread(Supplier<T> op) {
        try {
            return storeThread.submit(op::get).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw (RuntimeException) e.getCause();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Guest 5's request through its connection, on the store's thread; the reply (events skipped). */
    private WireMessage guest(int type, int tx, String path, String value) {
        byte[] payload = (path + "\0").getBytes();
        if (value != null) {
            byte[] v = value.getBytes();
            payload = Arrays.copyOf(payload, payload.length + v.length);
            System.arraycopy(v, 0, payload, payload.length - v.length, v.length);
        }
        byte[] request = new WireMessage(type, ++reqId, tx, payload).encode();
        return onStoreThread(() -> {
            for (int off = 0, n; off < request.length; off += n) { // the header, then the payload
                n = guest.accept(request, off, request.length - off);
                assertTrue(n > 0);
            }
            byte[] out = new byte[8192];
            int n = guest.produce(out, 0, out.length);
            WireMessage m = WireMessage.decode(Arrays.copyOf(out, n));
            while (m.type() == XsType.WATCH_EVENT) {
                int len = WireMessage.HEADER + m.payload().length;
                out = Arrays.copyOfRange(out, len, n);
                n -= len;
                m = WireMessage.decode(Arrays.copyOf(out, n));
            }
            return m;
        });
    }

    private static void assertRefused(String error, Executable op) {
        XenStoreException e = assertThrows(XenStoreException.class, op);
        assertEquals(error, e.error(), e::getMessage);
    }

    private void awaitEvents(int count) throws InterruptedException {
        StoreBackendTest.waitFor(() -> events.size() >= count);
    }

    @Test
    void everyNodeOperationAsDom0() {
        host.write("/tool/a/b", "v");
        assertEquals("v", host.readString("/tool/a/b"));
        assertArrayEquals(new byte[0], host.read("/tool/a"), "a parent made on the way is empty");
        host.write("/tool/bin", new byte[] {0, (byte) 0xff});
        assertArrayEquals(new byte[] {0, (byte) 0xff}, host.read("/tool/bin"));
        host.mkdir("/tool/c");
        host.mkdir("/tool/c"); // an existing node is fine
        assertEquals(List.of("a", "bin", "c"), host.directory("/tool"));
        host.write("rel", "home"); // relative to /local/domain/0
        assertEquals("home", host.readString("/local/domain/0/rel"));
        host.rm("/tool/a");
        host.rm("/tool/a"); // missing with its parent present: fine, as xs_rm
        assertEquals(List.of("bin", "c"), host.directory("/tool"));
        assertEquals(List.of("n0"), host.getPermissions("/tool"));
        host.setPermissions("/tool/c", List.of("n5", "r6"));
        assertEquals(List.of("n5", "r6"), host.getPermissions("/tool/c"));
        assertEquals("x", write("/tool/c", "x"), "dom0 may still write a node it gave away");
    }

    private String write(String path, String value) {
        host.write(path, value);
        return host.readString(path);
    }

    @Test
    void refusalsCarryXensErrorName() {
        XenStoreException e = assertThrows(XenStoreException.class, () -> host.read("/nope"));
        assertEquals("ENOENT", e.error());
        assertEquals("read /nope (ENOENT)", e.getMessage());
        assertRefused("ENOENT", () -> host.directory("/nope/deeper"));
        assertRefused("ENOENT", () -> host.rm("/nope/deeper"));
        assertRefused("EINVAL", () -> host.rm("/"));
        assertRefused("EINVAL", () -> host.write("/a//b", "x"));
        assertRefused("EINVAL", () -> host.read("/a/"));
        assertRefused("EINVAL", () -> host.mkdir("/a b"));
        assertRefused("EINVAL", () -> host.setPermissions("/local", List.of("x1")));
        assertRefused("EINVAL", () -> host.setPermissions("/local", List.of()));
        assertRefused("ENOSPC", () -> host.write("/big", new byte[4097]));
        assertRefused("EINVAL", () -> host.watch("bad//path", "t", (p, t) -> { }));
    }

    @Test
    void permissionsSetByTheHostBindTheGuests() {
        host.write("/tool/shared", "s");
        host.setPermissions("/tool/shared", List.of("n0", "r5"));
        assertEquals("s", guest(XsType.READ, 0, "/tool/shared", null).text());
        assertEquals(List.of("EACCES"), guest(XsType.WRITE, 0, "/tool/shared", "g").strings());
        host.setPermissions("/tool/shared", List.of("n0"));
        assertEquals(List.of("EACCES"), guest(XsType.READ, 0, "/tool/shared", null).strings());
        assertEquals("s", host.readString("/tool/shared"));
    }

    @Test
    void aWatchFiresAtOnceThenForEveryChangeBelowOnTheWatchThread() throws Exception {
        List<String> threads = new CopyOnWriteArrayList<>();
        XenStoreWatch w = host.watch("/local/domain/5/data", "tok", (path, token) -> {
            threads.add(Thread.currentThread().getName());
            events.add(path + " " + token);
        });
        assertEquals("/local/domain/5/data", w.path());
        assertEquals("tok", w.token());
        awaitEvents(1);
        assertEquals("OK", guest(XsType.WRITE, 0, "data/x", "1").strings().get(0)); // the guest's own write
        awaitEvents(2);
        host.write("/local/domain/5/data/y/z", "2");
        host.write("/local/domain/5/other", "3"); // a sibling: no event
        awaitEvents(3);
        assertEquals(List.of("/local/domain/5/data tok", "/local/domain/5/data/x tok", "/local/domain/5/data/y/z tok"), events);
        assertEquals(List.of("xen.store-watches"), threads.stream().distinct().toList());
        w.close();
        w.close(); // twice is fine
        host.write("/local/domain/5/data/after", "4");
        host.read("/local/domain/5/data/after"); // the store has served the write and any event it fired
        Thread.sleep(50);
        assertEquals(3, events.size(), () -> "no event after close: " + events);
    }

    @Test
    void relativeAndSpecialWatches() throws Exception {
        host.watch("rel", "r", (path, token) -> events.add(path + " " + token));
        host.watch("@releaseDomain", "gone", (path, token) -> events.add(path + " " + token));
        awaitEvents(2);
        host.write("rel/x", "1");
        onStoreThread(() -> {
            tree.releaseDomain(5);
            return null;
        });
        awaitEvents(4);
        assertEquals(List.of("rel r", "@releaseDomain gone", "rel/x r", "@releaseDomain gone"), events);
    }

    @Test
    void aBlockedCallbackNeverStallsTheStoreAndExcessEventsAreDroppedAndCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        host.watch("/busy", "t", (path, token) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            events.add(path);
        });
        for (int i = 0; i < HostStore.EVENTS_MAX + 10; i++) {
            host.write("/busy/n" + i, "x"); // every write returns while the callback is blocked
        }
        assertEquals("x", host.readString("/busy/n" + (HostStore.EVENTS_MAX + 9)));
        assertTrue(host.droppedEvents() >= 9, () -> "dropped " + host.droppedEvents());
        release.countDown();
        awaitEvents(HostStore.EVENTS_MAX);
        assertEquals("/busy", events.get(0));
    }

    @Test
    void aFailingCallbackIsLoggedAndTheNextEventsStillCome() throws Exception {
        host.watch("/f", "t", (path, token) -> {
            events.add(path);
            if (path.equals("/f")) {
                throw new IllegalStateException("boom");
            }
        });
        host.write("/f/x", "1");
        awaitEvents(2);
        assertEquals(List.of("/f", "/f/x"), events);
        assertEquals(1, log.size(), log::toString);
        assertTrue(log.get(0).contains("boom"), log::toString);
        log.clear();
    }

    @Test
    void aTransactionSeesItsOwnViewAndCommits() {
        host.write("/t/a", "old");
        try (XenStoreTransaction t = host.transactionStart()) {
            t.write("/t/a", "new");
            t.mkdir("/t/dir");
            assertEquals("new", t.readString("/t/a"));
            assertEquals(List.of("a", "dir"), t.directory("/t"));
            assertEquals("old", host.readString("/t/a"), "outside, the live tree");
            assertRefused("ENOENT", () -> host.read("/t/dir"));
            t.commit();
            assertRefused("ENOENT", () -> t.read("/t/a")); // ended
        }
        assertEquals("new", host.readString("/t/a"));
        assertEquals(List.of("a", "dir"), host.directory("/t"));
    }

    @Test
    void anAbortedOrClosedTransactionChangesNothing() {
        XenStoreTransaction t = host.transactionStart();
        t.write("/gone", "x");
        t.abort();
        assertRefused("ENOENT", () -> host.read("/gone"));
        try (XenStoreTransaction u = host.transactionStart()) {
            u.rm("/local");
        }
        assertEquals(List.of("domain"), host.directory("/local"));
        assertEquals(0, onStoreThread(tree::transactionCount));
    }

    @Test
    void aCommitConflictingWithAGuestsWriteIsEagainAndARetrySucceeds() {
        assertEquals("OK", guest(XsType.WRITE, 0, "data/x", "1").strings().get(0));
        XenStoreTransaction t = host.transactionStart();
        assertEquals("1", t.readString("/local/domain/5/data/x"));
        t.write("/local/domain/5/data/y", "from the host");
        assertEquals("OK", guest(XsType.WRITE, 0, "data/x", "2").strings().get(0)); // meanwhile
        assertRefused("EAGAIN", t::commit);
        assertRefused("ENOENT", () -> host.read("/local/domain/5/data/y"));
        t.close(); // over already: nothing to abort
        try (XenStoreTransaction retry = host.transactionStart()) {
            assertEquals("2", retry.readString("/local/domain/5/data/x"));
            retry.write("/local/domain/5/data/y", "from the host");
            retry.commit();
        }
        assertEquals("from the host", guest(XsType.READ, 0, "data/y", null).text());
    }

    @Test
    void aGuestsTransactionConflictsWithTheHostsWrite() {
        host.write("/local/domain/5/control/shutdown", "");
        WireMessage start = guest(XsType.TRANSACTION_START, 0, "", null);
        int tx = Integer.parseInt(start.strings().get(0));
        assertEquals("", guest(XsType.READ, tx, "control/shutdown", null).text());
        assertEquals("OK", guest(XsType.WRITE, tx, "data/z", "1").strings().get(0));
        host.write("/local/domain/5/control/shutdown", "poweroff");
        assertEquals(List.of("EAGAIN"), guest(XsType.TRANSACTION_END, tx, "T", null).strings());
        assertEquals(List.of("ENOENT"), guest(XsType.READ, 0, "data/z", null).strings());
    }
}
