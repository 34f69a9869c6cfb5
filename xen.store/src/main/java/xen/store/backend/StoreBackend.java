package xen.store.backend;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.ForeignMemory;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.DomainStateParking;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.evtchn.api.store.XenStoreWatch;
import xen.store.save.StoreImage;
import xen.store.save.StoreImages;
import xen.store.tree.Perms;
import xen.store.tree.Quotas;
import xen.store.tree.Store;
import xen.store.tree.StoreException;
import xen.store.tree.StorePath;
import xen.store.wire.Connection;
import xen.store.wire.RingService;
import xen.store.wire.StoreRing;

/**
 * XenStore for every domain (xenstored's job, with the toolstack's part of writing each domain's
 * tree): for every domain the host announces with a store ring (HVM_PARAM_STORE_PFN and
 * STORE_EVTCHN, set by the host as Xen's toolstack does), it maps the ring page, binds the guest's
 * store port, writes the domain's initial tree ({@link InitialTree}), introduces it, and serves
 * its ring; when the domain goes, it releases it and removes its nodes.
 * <p>
 * One thread of this bundle serves every domain, so the tree and every connection are touched by
 * that thread only, and requests never run on a vCPU's thread. Each round it takes the events that
 * came and gives every domain that is due one bounded pump ({@link RingService#pump()}) in turn,
 * then raises the guest's port if the pump moved bytes: a guest flooding its ring gets one share
 * per round, as every other. The ports are held by one handle named {@value #HANDLE}, so that a
 * next instance takes them over, and the tree, each domain's watches and the bytes in flight on
 * its ring are parked in the host ({@link DomainStateParking}) when this instance goes, for the
 * next one to carry on from.
 * <p>
 * It is the {@link DomainStatePart} {@value #PART} of every domain's save stream: a domain's nodes
 * (its home and the backend directories dom0 keeps for it), its watches, its transactions (their
 * commit is EAGAIN after the restore) and its connection's bytes in flight ({@link StoreImage}).
 * A domain restored with that part gets its saved tree instead of an initial one.
 * <p>
 * It is also the host's {@link XenStore} service ({@link HostStore}): the host's calls are tasks of
 * the same thread, so they are served in turn with the guests' requests.
 */
@Component(service = {DomainListener.class, XenStore.class, DomainStatePart.class}, immediate = true)
public final class StoreBackend implements DomainListener, XenStore, DomainStatePart {
    /** The name of the store's part of a domain's save stream, and of what it parks in the host. */
    public static final String PART = StoreImages.PART;
    /** The name of the handle holding every domain's store port. */
    static final String HANDLE = "xen.store";
    /** How long the thread waits for an event before it looks at its tasks again. */
    static final int POLL_MS = 10;

    private final ForeignMemory memory;
    private final Consumer<String> log;
    private final Store store = new Store(Quotas.DEFAULTS);
    private final EvtchnHandle handle;
    /** What the host's calls leave for the store's thread: the tree is changed on that thread only. */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** The domains served, in the order they came (the store's thread only). */
    private final Map<Integer, DomainRing> rings = new LinkedHashMap<>();
    /** The domains whose store port is bound, and their host ports (under this object's lock). */
    private final Map<Integer, Integer> bound = new LinkedHashMap<>();
    private final Set<Integer> served = ConcurrentHashMap.newKeySet();
    /** Where the tree waits while the bundle is updated; null for a store of its own (tests, embedding). */
    private final DomainStateParking parking;
    /** The states restored, by domid, for their domainCreated (under this object's lock). */
    private final Map<Integer, StoreImage> restored = new HashMap<>();
    private final Thread thread;
    private final HostStore host;
    private volatile boolean stopping;
    private boolean deactivated;

    @Activate
    public StoreBackend(@Reference EvtchnHost evtchn, @Reference ForeignMemory memory, @Reference DomainStateParking parking) {
        this(evtchn, memory, parking, line -> System.err.println("xen.store: " + line));
    }

    /**
     * A store whose messages go to {@code log} (tests, embedding), carrying on from the tree a
     * previous instance parked in {@code parking} (if any), and parking its own there when it
     * goes; a null {@code parking} makes a store of its own, whose tree goes with it. (No other
     * constructor of three parameters: SCR tries every one of the activation's arity.)
     */
    public StoreBackend(EvtchnHost evtchn, ForeignMemory memory, DomainStateParking parking, Consumer<String> log) {
        this.memory = memory;
        this.log = log;
        this.parking = parking;
        this.handle = evtchn.open(HANDLE);
        this.thread = Thread.ofPlatform().name("xen.store").daemon(true).unstarted(this::run);
        this.host = new HostStore(store, this::onStoreThread, log);
        byte[] parked = parking == null ? null : parking.take(Perms.PRIVILEGED, PART);
        if (parked != null) {
            try {
                StoreImage nodes = StoreImages.read(parked, Perms.PRIVILEGED, Perms.PRIVILEGED, store.quotas());
                tasks.add(() -> nodes.nodes().forEach(store::restoreNode)); // first: before any domain's part
            } catch (SaveStreamException e) {
                log.accept("the tree parked by the previous instance is lost: " + e.getMessage());
            }
        }
        thread.start();
    }

    @Override
    public synchronized void domainCreated(DomainHandle domain) {
        int domid = domain.domid();
        long gfn = domain.hvmParam(HvmParam.STORE_PFN);
        long remotePort = domain.hvmParam(HvmParam.STORE_EVTCHN);
        if (deactivated || bound.containsKey(domid)) {
            return;
        }
        StoreImage image = restoredOrParked(domid);
        if (gfn == 0 || remotePort <= 0 || remotePort > Integer.MAX_VALUE) {
            if (image != null) {
                tasks.add(() -> restoreTree(domid, image));
            }
            return; // a domain without a store ring (its VMM set no special frames)
        }
        try {
            MemorySegment page = memory.map(domid, gfn, 1);
            BackendState.Binding binding = handle.state().binding(domid, (int) remotePort);
            int port = binding != null ? binding.port() : handle.bindInterdomain(domid, (int) remotePort);
            bound.put(domid, port);
            int vcpus = domain.vcpuCount();
            long ram = domain.ramBytes();
            tasks.add(() -> introduce(domid, vcpus, ram, page, port, image));
        } catch (EvtchnException | RuntimeException e) {
            log.accept("dom" + domid + ": no xenstore: " + e.getMessage());
        }
    }

    @Override
    public void domainDestroyed(DomainHandle domain) {
        int domid = domain.domid();
        Integer port;
        synchronized (this) {
            port = bound.remove(domid);
            restored.remove(domid);
        }
        if (port == null) {
            return;
        }
        try {
            handle.unbind(port);
        } catch (EvtchnException | RuntimeException e) {
            // its far end went with the domain already
        }
        tasks.add(() -> release(domid));
    }

    /** The state a restore applied for {@code domid}, else the one a previous instance parked, else null. */
    private StoreImage restoredOrParked(int domid) {
        StoreImage image = restored.remove(domid);
        byte[] parked = parking == null ? null : parking.take(domid, PART);
        if (image == null && parked != null) {
            try {
                image = StoreImages.read(parked, domid, domid, store.quotas());
            } catch (SaveStreamException e) {
                log.accept("dom" + domid + ": its tree parked by the previous instance is lost: " + e.getMessage());
            }
        }
        return image;
    }

    // ---- the domain's part of a save stream (DomainStatePart) ----

    @Override
    public String name() {
        return PART;
    }

    /** Mandatory: a guest restored without its tree would find its devices, watches and data gone. */
    @Override
    public boolean mandatory() {
        return true;
    }

    /**
     * The domain's state on the store's thread, between two pumps; from then on its ring is no
     * longer served, as its timers no longer fire (the bytes and guest memory are to agree). Null
     * if the store has nothing of the domain.
     */
    @Override
    public byte[] save(int domid) {
        return onStoreThread(() -> {
            DomainRing r = rings.get(domid);
            if (r != null) {
                r.frozen = true;
            }
            StoreImage image = image(domid);
            return image == null ? null : StoreImages.write(image);
        });
    }

    @Override
    public Restore prepare(int domid, int savedDomid, byte[] state) {
        StoreImage image = StoreImages.read(state, savedDomid, domid, store.quotas());
        return () -> {
            synchronized (this) {
                if (deactivated && parking != null) {
                    parking.park(domid, PART, true, StoreImages.write(image)); // going: the next instance takes it
                } else {
                    restored.put(domid, image);
                }
            }
        };
    }

    /** {@code domid}'s state in the store (the store's thread), or null if it has none. */
    private StoreImage image(int domid) {
        DomainRing r = rings.get(domid);
        List<Store.NodeState> nodes = new ArrayList<>(store.export(StorePath.home(domid), Set.of()));
        if (nodes.isEmpty()) {
            return null; // no home (never introduced, or removed by the host): nothing a restore could start from
        }
        for (String root : backendRoots(domid)) {
            nodes.addAll(store.export(root, Set.of()));
        }
        return new StoreImage(nodes, r == null ? List.of() : store.watches(r.connection), store.transactionIds(domid),
                r == null ? null : r.connection.state());
    }

    /** The backend directories dom0 keeps for {@code domid} (/local/domain/0/backend/TYPE/domid) that exist. */
    private List<String> backendRoots(int domid) {
        List<String> types;
        try {
            types = store.directory(Perms.PRIVILEGED, 0, StoreImages.backends());
        } catch (StoreException e) {
            types = List.of();
        }
        return StoreImages.backendRoots(types, domid);
    }

    /** Puts {@code image}'s nodes in place of whatever the tree had of {@code domid} (the store's thread). */
    private void restoreTree(int domid, StoreImage image) {
        List<String> old = new ArrayList<>(backendRoots(domid));
        old.add(StorePath.home(domid));
        for (String path : old) {
            try {
                store.rm(Perms.PRIVILEGED, 0, path);
            } catch (StoreException e) {
                // not there
            }
        }
        image.nodes().forEach(store::restoreNode);
        store.restoreDoomedTransactions(domid, image.transactions());
    }

    // ---- the host's XenStore: HostStore, each call run on the store's thread ----

    @Override
    public byte[] read(String path) {
        return host.read(path);
    }

    @Override
    public void write(String path, byte[] value) {
        host.write(path, value);
    }

    @Override
    public void mkdir(String path) {
        host.mkdir(path);
    }

    @Override
    public void rm(String path) {
        host.rm(path);
    }

    @Override
    public List<String> directory(String path) {
        return host.directory(path);
    }

    @Override
    public List<String> getPermissions(String path) {
        return host.getPermissions(path);
    }

    @Override
    public void setPermissions(String path, List<String> permissions) {
        host.setPermissions(path, permissions);
    }

    @Override
    public XenStoreTransaction transactionStart() {
        return host.transactionStart();
    }

    @Override
    public XenStoreWatch watch(String path, String token, XenStoreWatch.Callback callback) {
        return host.watch(path, token, callback);
    }

    /**
     * Runs {@code op} on the store's thread, after the tasks before it, and waits for it: at most
     * one round of the thread ({@value #POLL_MS} ms when idle) plus the op. On that thread itself
     * it runs at once. IllegalStateException once the store is deactivated.
     */
    private <T> T onStoreThread(Supplier<T> op) {
        if (Thread.currentThread() == thread) {
            return op.get();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        synchronized (this) {
            if (deactivated) {
                throw new IllegalStateException("xen.store is stopped");
            }
            tasks.add(() -> {
                try {
                    result.complete(op.get());
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            });
        }
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw (RuntimeException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for xen.store", e);
        }
    }

    /** The domains whose rings this instance serves, their trees written (for tests and tools). */
    public List<Integer> domains() {
        return List.copyOf(served);
    }

    /** The tree (tests; the store's thread is its only writer while running). */
    Store store() {
        return store;
    }

    /**
     * Stops the thread after its round and hands the ports over (detached, their events kept) to
     * the next store instance. The host's calls queued before are answered; later ones are
     * refused (IllegalStateException), and watch events stop.
     */
    @Deactivate
    public void deactivate() {
        synchronized (this) {
            deactivated = true;
        }
        stopping = true;
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runTasks(); // the thread is gone: the host's calls queued before the stop are answered here
        host.close();
        if (parking != null) {
            park();
        }
        handle.detach();
    }

    /**
     * Parks the tree in the host for the next instance: each domain's part under its domid, and
     * every other node under domain 0. The thread is stopped: this is the tree's last user.
     */
    private void park() {
        Set<String> parked = new java.util.HashSet<>();
        for (int domid : List.copyOf(rings.keySet())) {
            StoreImage image = image(domid);
            if (image != null) {
                parking.park(domid, PART, true, StoreImages.write(image));
                parked.add(StorePath.home(domid));
                parked.addAll(backendRoots(domid));
            }
        }
        synchronized (this) {
            for (Map.Entry<Integer, StoreImage> e : restored.entrySet()) { // restored, not yet created when this went
                parking.park(e.getKey(), PART, true, StoreImages.write(e.getValue()));
            }
            restored.clear();
        }
        List<Store.NodeState> rest = store.export(StorePath.ROOT, parked);
        parking.park(Perms.PRIVILEGED, PART, true, StoreImages.write(new StoreImage(rest, List.of(), List.of(), null)));
    }

    private void introduce(int domid, int vcpus, long ram, MemorySegment page, int port, StoreImage image) {
        StoreRing ring = new StoreRing(page);
        ring.advertiseFeatures();
        Connection connection;
        if (image == null) {
            connection = new Connection(store, domid);
            InitialTree.write(store, domid, vcpus, ram);
        } else {
            restoreTree(domid, image);
            connection = image.connection() == null ? new Connection(store, domid) : new Connection(store, domid, image.connection());
            for (Store.WatchState w : image.watches()) {
                try {
                    store.watch(connection, w.path(), w.token()); // it fires once, as on a new registration
                } catch (StoreException e) {
                    log.accept("dom" + domid + ": watch " + w.path() + " not restored: " + e.error());
                }
            }
            store.introduceDomain(domid);
        }
        rings.put(domid, new DomainRing(domid, port, connection, new RingService(ring, connection)));
        served.add(domid);
    }

    private void release(int domid) {
        DomainRing r = rings.remove(domid);
        served.remove(domid);
        if (r != null) {
            r.connection.close();
        }
        InitialTree.remove(store, domid);
    }

    private void run() {
        Map<Integer, DomainRing> byPort = new HashMap<>();
        List<Integer> taken = new ArrayList<>();
        boolean busy = false;
        while (!stopping) {
            try {
                runTasks();
                byPort.clear();
                for (DomainRing r : rings.values()) {
                    byPort.put(r.port, r);
                }
                // Every port with an event; each stays masked until unmasked after this round.
                taken.clear();
                int port = busy ? handle.pending() : handle.pending(POLL_MS, TimeUnit.MILLISECONDS);
                while (port >= 0) {
                    taken.add(port);
                    DomainRing r = byPort.get(port);
                    if (r != null) {
                        r.kicked = true;
                    }
                    port = handle.pending();
                }
                busy = false;
                try {
                    for (DomainRing r : List.copyOf(rings.values())) {
                        if (r.due()) {
                            busy |= pump(r);
                        }
                    }
                } finally {
                    for (int p : taken) {
                        unmask(p); // after the round: a kick that came meanwhile is delivered again
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.accept("store thread: " + e); // never seen; the thread goes on serving
            }
        }
    }

    private void runTasks() {
        for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.accept("store task failed: " + e);
            }
        }
    }

    /** One bounded pump of {@code r}'s ring, the guest raised if bytes moved; whether they did. */
    private boolean pump(DomainRing r) {
        r.kicked = false;
        boolean moved;
        try {
            moved = r.service.pump();
        } catch (IllegalStateException e) {
            // Its memory is gone: the domain went and its release is queued. Nothing more to serve.
            rings.remove(r.domid);
            return false;
        } catch (RuntimeException e) {
            // A fault of ours (a connection answers every request without throwing): this domain
            // is no longer served, every other one is.
            log.accept("dom" + r.domid + ": no longer served: " + e);
            rings.remove(r.domid);
            return false;
        }
        r.busy = moved;
        if (moved) {
            try {
                handle.notify(r.port);
            } catch (EvtchnException e) {
                if (!r.portFaultReported) {
                    r.portFaultReported = true;
                    log.accept("dom" + r.domid + ": store port: " + e.getMessage());
                }
            }
        }
        return moved;
    }

    private void unmask(int port) {
        try {
            handle.unmask(port);
        } catch (EvtchnException e) {
            // unbound meanwhile: the domain went
        }
    }
}
