package xen.bus.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.api.backend.GrantTables;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.DeviceStatus;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusException;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.bus.save.BusRecord;

/**
 * xen-bus: the toolstack's device add and remove ({@link XenBus}) and the backend core that
 * serves every device with the backend of its type, as Linux's xenbus backend core and its
 * drivers' {@code frontend_changed} do (docs/XENBUS.md has the state table).
 * <p>
 * Each device's two XenStore directories are watched (the frontend's {@code state}, the backend's
 * directory); every watch event queues one examination of the device on the bus's thread, which
 * reads the frontend's state (untrusted: anything but a known state counts as Unknown) and takes
 * the step the table gives. The backend's state is the bus's own record, written to XenStore.
 * Backends are a whiteboard: the best ranked backend of a type serves it; when it leaves, or a
 * better one comes, each of its connected devices is handed over ({@link DeviceBackend#handOver()},
 * then its event channel handle parked) and the next backend connects with
 * {@link xen.evtchn.api.bus.XenBusDevice#resumed()}, the states staying Connected meanwhile.
 * <p>
 * The bus's state lives in XenStore, so an instance that comes adopts the devices an earlier one
 * left (each domain's backend directories, read when the domain is announced).
 * <p>
 * It is the optional {@link DomainStatePart} {@value #PART} of a domain's save: at the save each
 * connected device is handed over as to another backend (every request taken answered, its port
 * parked, and the port's binding then goes into the stream with the host's), and the domain's
 * devices are left as they are until it is destroyed; at the restore the devices are adopted and
 * the connected ones resumed by the backend of their type (docs/XENBUS.md, "Save and restore").
 */
@Component(service = {XenBus.class, DomainListener.class, DomainStatePart.class}, immediate = true)
public final class BusComponent implements XenBus, DomainListener, DomainStatePart {
    /** The name of the bus's part of a domain's save stream. */
    public static final String PART = BusRecord.PART;

    private final XenStore store;
    private final EvtchnHost evtchn;
    private final GrantTables grants;
    private final Consumer<String> log;
    private final BusThread thread;
    /** The registered backends (the bus thread's). */
    private final Backends backends = new Backends();
    /** Every device, by {@link Device#key}: changed on the bus thread, read by {@link #devices()}. */
    private final Map<String, Device> devices = new ConcurrentHashMap<>();
    /** The domains the host announced. */
    private final Set<Integer> domains = ConcurrentHashMap.newKeySet();
    /** Domains saved and not yet destroyed: their devices are left as the save left them. */
    private final Set<Integer> saved = ConcurrentHashMap.newKeySet();
    /** Restored domains' records, applied by the restore, for their announcement ({@link #adopt}). */
    private final Map<Integer, Restored> restored = new ConcurrentHashMap<>();

    /** A domain's record as its restore applied it: the domid it was saved as and its devices. */
    private record Restored(int savedDomid, BusRecord record) {
    }

    @Activate
    public BusComponent(@Reference XenStore store, @Reference EvtchnHost evtchn, @Reference GrantTables grants) {
        this(store, evtchn, grants, line -> System.err.println("xen.bus: " + line));
    }

    /** A bus whose messages go to {@code log} (tests, embedding). */
    public BusComponent(XenStore store, EvtchnHost evtchn, GrantTables grants, Consumer<String> log) {
        this.store = store;
        this.evtchn = evtchn;
        this.grants = grants;
        this.log = log;
        this.thread = new BusThread("xen.bus", log);
    }

    // ---- the backends' whiteboard ----

    /** A backend service comes; if it is now the best of its type, the previous one hands over to it. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "removeBackend", updated = "updatedBackend")
    public void addBackend(XenBusBackend backend, Map<String, Object> properties) {
        String type;
        try {
            type = backend.type();
        } catch (RuntimeException e) {
            log.accept("a backend failed to name its type: " + e);
            return;
        }
        Backends.Ranked ranked = new Backends.Ranked(backend, type, ranking(properties), serviceId(properties));
        onBus(() -> changeBackends(type, () -> backends.add(ranked)));
    }

    /** A backend's ranking changed: it may win or lose its type. */
    public void updatedBackend(XenBusBackend backend, Map<String, Object> properties) {
        onBus(() -> {
            String type = typeOf(backend);
            if (type != null) {
                changeBackends(type, () -> {
                    backends.remove(backend);
                    backends.add(new Backends.Ranked(backend, type, ranking(properties), serviceId(properties)));
                });
            }
        });
    }

    /** A backend service leaves: if it served its type, its devices are handed over to the next best, if any. */
    public void removeBackend(XenBusBackend backend, Map<String, Object> properties) {
        onBus(() -> {
            String type = typeOf(backend);
            if (type != null) {
                changeBackends(type, () -> backends.remove(backend));
            }
        });
    }

    private String typeOf(XenBusBackend backend) {
        for (Backends.Ranked r : backends.all()) {
            if (r.backend() == backend) {
                return r.type();
            }
        }
        return null;
    }

    /** Applies {@code change} to the backends of {@code type}; if another now serves it, hands over and serves again. */
    private void changeBackends(String type, Runnable change) {
        Backends.Ranked before = backends.serving(type);
        change.run();
        Backends.Ranked after = backends.serving(type);
        XenBusBackend was = before == null ? null : before.backend();
        XenBusBackend now = after == null ? null : after.backend();
        if (was == now) {
            return;
        }
        if (was != null) {
            handOver(was);
        }
        for (Device d : List.copyOf(devices.values())) {
            if (d.type.equals(type)) {
                examine(d);
            }
        }
    }

    /** Each device {@code backend} serves goes back to the bus: connected ones handed over and their ports parked. */
    private void handOver(XenBusBackend backend) {
        for (Device d : devices.values()) {
            if (d.servedBy == backend) {
                handOver(d);
            }
        }
    }

    /** The device goes back to the bus: handed over and its port parked if connected, else its probe dropped. */
    private void handOver(Device d) {
        if (d.connected) {
            try {
                d.served.handOver();
            } catch (RuntimeException e) {
                log.accept(d + ": the backend failed to hand over: " + e);
            }
        }
        d.link.retire(d.connected);
        d.unserve();
    }

    private static int ranking(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_RANKING) instanceof Integer r ? r : 0;
    }

    private static long serviceId(Map<String, Object> properties) {
        return properties.get(Constants.SERVICE_ID) instanceof Long id ? id : Long.MAX_VALUE;
    }

    // ---- domains ----

    @Override
    public void domainCreated(DomainHandle domain) {
        int domid = domain.domid();
        domains.add(domid);
        thread.post(() -> adopt(domid));
    }

    /** Every device of the domain: its backend disconnected, its port closed, its backend directory removed. */
    @Override
    public void domainDestroyed(DomainHandle domain) {
        int domid = domain.domid();
        domains.remove(domid);
        restored.remove(domid);
        onBus(() -> {
            saved.remove(domid); // a saved domain's devices are parked: their ports closed here, nothing disconnected twice
            for (Device d : List.copyOf(devices.values())) {
                if (d.domid == domid) {
                    release(d);
                    Toolstack.removeBackend(store, d.type, d.domid, d.devid);
                    forget(d, false);
                }
            }
        });
    }

    /**
     * The devices an earlier bus left in the domain's backend directories, adopted as they are: a
     * connected one whose port is parked is resumed by the next backend of its type; a connected
     * one whose port is not (its bus went without handing over) is asked to close.
     */
    private void adopt(int domid) {
        Restored r = restored.remove(domid);
        if (r != null) {
            for (BusRecord.Entry e : r.record().devices()) {
                if (!devices.containsKey(Device.key(domid, e.type(), e.devid()))) {
                    Device d = new Device(domid, e.type(), e.devid());
                    d.adopting = true;
                    d.savedDomid = r.savedDomid();
                    d.connectedAtSave = e.connected();
                    register(d); // its watches fire once now, and when the store writes its restored nodes
                }
            }
        }
        for (String type : list("/local/domain/" + DomId.HOST + "/backend")) {
            for (String id : list("/local/domain/" + DomId.HOST + "/backend/" + type + "/" + domid)) {
                int devid;
                try {
                    devid = Integer.parseInt(id);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (devid < 0 || devices.containsKey(Device.key(domid, type, devid))) {
                    continue;
                }
                Device d = new Device(domid, type, devid);
                int state = NodeValues.state(Toolstack.read(store, d.backendPath + "/state"));
                if (!d.frontendPath.equals(Toolstack.read(store, d.backendPath + "/frontend")) || state < XenbusState.INITIALISING) {
                    continue; // not a device as this bus writes them
                }
                d.backendState = state;
                d.connected = state == XenbusState.CONNECTED && evtchn.isParked(d.handleName);
                d.seenFrontend = frontendState(d);
                log.accept(d + ": adopted in state " + XenbusState.name(state));
                register(d);
                if (state == XenbusState.CONNECTED && !d.connected) {
                    writeState(d, XenbusState.CLOSING);
                }
            }
        }
    }

    private List<String> list(String path) {
        try {
            return store.directory(path);
        } catch (XenStoreException e) {
            return List.of();
        }
    }

    // ---- save and restore: the DomainStatePart ----

    @Override
    public String name() {
        return PART;
    }

    /**
     * Optional: the record only says which devices the restore resumes. Without it (a host
     * without this bus, or a record this bus cannot read) nothing is lost or doubled, since every
     * request taken was answered at the save: the devices wait, Connected, and a bus adopts them
     * from XenStore as it adopts an earlier bus's.
     */
    @Override
    public boolean mandatory() {
        return false;
    }

    /**
     * On the bus's thread: each connected device of the domain is handed over, as to another
     * backend (its backend answers every request it took and releases the ring; its port is
     * parked), and the domain's devices are left as they are until it is destroyed. Null if the
     * domain has no device.
     */
    @Override
    public byte[] save(int domid) {
        try {
            return thread.call(() -> {
                saved.add(domid);
                List<BusRecord.Entry> entries = new ArrayList<>();
                for (Device d : List.copyOf(devices.values())) {
                    if (d.domid != domid) {
                        continue;
                    }
                    if (d.adopting) { // restored, and saved again before its nodes came: as it was saved
                        entries.add(new BusRecord.Entry(d.type, d.devid, d.connectedAtSave));
                        continue;
                    }
                    if (d.served != null && d.connected) {
                        handOver(d);
                    }
                    entries.add(new BusRecord.Entry(d.type, d.devid, d.connected));
                }
                return entries.isEmpty() ? null : new BusRecord(entries).write();
            });
        } catch (IllegalStateException e) {
            return null; // the bus is stopped: it handed every device over when it went
        }
    }

    /**
     * Reads the record; one that cannot be read is left out (logged), the part being optional.
     * Applying it moves each connected device's restored binding to the handle of its new domid
     * (before the guest runs) and leaves the devices for the domain's announcement, when the
     * store has written their nodes.
     */
    @Override
    public Restore prepare(int domid, int savedDomid, byte[] state) {
        BusRecord record;
        try {
            record = BusRecord.read(state);
        } catch (SaveStreamException e) {
            String message = e.getMessage();
            return () -> log.accept("dom" + domid + ": its xen.bus record is left out (" + message
                    + "); its devices are adopted from XenStore as they are");
        }
        return () -> {
            if (savedDomid != domid) {
                for (BusRecord.Entry e : record.devices()) {
                    if (e.connected()) {
                        moveBindings(Device.handleName(e.type(), savedDomid, e.devid()),
                                Device.handleName(e.type(), domid, e.devid()), domid);
                    }
                }
            }
            restored.put(domid, new Restored(savedDomid, record));
        };
    }

    /**
     * A device restored under another domid: the restore bound its port under the handle name of
     * the domid it was saved as; its bindings to {@code domid} move to a handle of the new name,
     * parked for the backend that resumes it. The guest has not run yet, so it sees its port
     * connected as before; the new binding raises the host's end, so the backend looks at the ring.
     */
    private void moveBindings(String from, String to, int domid) {
        if (!evtchn.isParked(from)) {
            return; // no binding came with the stream (or a backend holds that name here): the device is asked to close
        }
        try {
            EvtchnHandle old = evtchn.open(from);
            List<BackendState.Binding> mine = new ArrayList<>();
            for (BackendState.Binding b : old.state().bindings()) {
                if (b.domid() == domid) {
                    mine.add(b);
                    old.unbind(b.port());
                }
            }
            if (old.state().bindings().isEmpty()) {
                old.close();
            } else {
                old.detach(); // the saved domain's own port, still here: parked as its save left it
            }
            EvtchnHandle moved = evtchn.open(to);
            for (BackendState.Binding b : mine) {
                moved.bindInterdomain(domid, b.remotePort());
            }
            moved.detach();
        } catch (EvtchnException | RuntimeException e) {
            log.accept("dom" + domid + ": the port of " + from + " cannot move to " + to + ": " + e.getMessage());
        }
    }

    /**
     * A restored device whose backend directory the store has written: under another domid the
     * bus's own nodes naming the domain ({@code frontend}, {@code frontend-id}, the frontend's
     * {@code backend}) name the new one; its state is read back and a device connected at the
     * save is resumed by the backend of its type. False if the directory is not one this bus wrote.
     */
    private boolean adoptRestored(Device d) {
        if (d.savedDomid != d.domid) {
            String savedFrontend = Toolstack.frontendPath(d.type, d.savedDomid, d.devid);
            if (Toolstack.replace(store, d.backendPath + "/frontend", savedFrontend, d.frontendPath)) {
                writeIfPresent(d, "frontend-id", Integer.toString(d.domid));
                Toolstack.replace(store, d.frontendPath + "/backend", Toolstack.backendPath(d.type, d.savedDomid, d.devid),
                        d.backendPath);
            }
        }
        int state = NodeValues.state(Toolstack.read(store, d.backendPath + "/state"));
        if (!d.frontendPath.equals(Toolstack.read(store, d.backendPath + "/frontend")) || state < XenbusState.INITIALISING) {
            log.accept(d + ": restored, but its backend directory is not one the bus writes: left alone");
            forget(d, false);
            return false;
        }
        d.backendState = state;
        d.connected = state == XenbusState.CONNECTED && d.connectedAtSave;
        d.seenFrontend = frontendState(d);
        d.adopting = false; // last: devices() lists it from now on
        if (state == XenbusState.CONNECTED && !d.connected) {
            writeState(d, XenbusState.CLOSING); // nothing to resume: the frontend closes, then may start over
        }
        return true;
    }

    // ---- the toolstack: XenBus ----

    @Override
    public void add(DeviceNodes device) {
        Objects.requireNonNull(device, "device");
        thread.call(() -> {
            int domid = device.domid();
            if (!domains.contains(domid)) {
                throw new IllegalArgumentException("no domain " + domid);
            }
            refuseSaved(domid);
            if (devices.containsKey(Device.key(domid, device.type(), device.devid()))) {
                throw new IllegalArgumentException("dom" + domid + " has a " + device.type() + " " + device.devid() + " already");
            }
            Toolstack.add(store, device);
            register(new Device(domid, device.type(), device.devid()));
            return null;
        });
    }

    @Override
    public boolean remove(int domid, String type, int devid, long timeoutMillis) throws InterruptedException {
        String key = Device.key(domid, type, devid);
        CompletableFuture<Boolean> done = thread.call(() -> {
            Device d = devices.get(key);
            if (d == null || d.adopting) {
                throw new IllegalArgumentException("dom" + domid + " has no " + type + " " + devid);
            }
            refuseSaved(domid);
            if (d.removal != null) {
                return d.removal; // a removal waits already
            }
            d.removal = new CompletableFuture<>();
            writeIfPresent(d, "online", "0");
            int f = frontendState(d);
            if (f == XenbusState.CLOSED || f < XenbusState.INITIALISING || d.backendState == XenbusState.CLOSED) {
                close(d, XenbusState.CLOSED); // nothing connected at either end to wait for
                finishRemoval(d, true);
            } else if (d.backendState != XenbusState.CLOSING && d.backendState != XenbusState.CLOSED) {
                writeState(d, XenbusState.CLOSING); // asks the frontend to close; it disconnects at its Closing
            }
            return d.removal;
        });
        try {
            return done.get(Math.max(0, timeoutMillis), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // The frontend did not close in time: the toolstack removes the device anyway (libxl's force).
            onBus(() -> {
                Device d = devices.get(key);
                if (d != null && d.removal == done) {
                    close(d, XenbusState.CLOSED);
                    finishRemoval(d, false);
                }
            });
            return result(done);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /** A saved domain's devices stay as saved: its stream and its guest memory are to agree. */
    private void refuseSaved(int domid) {
        if (saved.contains(domid)) {
            throw new IllegalStateException("dom" + domid + " was saved: its devices stay as they were until it is destroyed");
        }
    }

    private static boolean result(CompletableFuture<Boolean> done) throws InterruptedException {
        try {
            return done.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    @Override
    public List<DeviceStatus> devices() {
        List<DeviceStatus> out = new ArrayList<>();
        for (Device d : devices.values()) {
            if (d.adopting) {
                continue; // restored, its nodes not yet there
            }
            try {
                out.add(new DeviceStatus(d.domid, d.type, d.devid,
                        NodeValues.state(Toolstack.read(store, d.backendPath + "/state")), frontendState(d),
                        d.servedNow, Toolstack.read(store, d.backendPath + "/error")));
            } catch (XenStoreException | IllegalStateException e) {
                // removed meanwhile, or the store is going
            }
        }
        out.sort(Comparator.comparingInt(DeviceStatus::domid).thenComparing(DeviceStatus::type)
                .thenComparingInt(DeviceStatus::devid));
        return out;
    }

    // ---- the state machine, on the bus thread ----

    private void register(Device d) {
        devices.put(d.key(), d);
        d.frontendWatch = store.watch(d.frontendPath + "/state", "xenbus", (path, token) -> queueExamine(d));
        d.backendWatch = store.watch(d.backendPath, "xenbus", (path, token) -> queueExamine(d));
    }

    /** A watch fired: one examination of {@code d} queued, unless one is queued already. */
    private void queueExamine(Device d) {
        if (d.examineQueued.compareAndSet(false, true)) {
            thread.post(() -> {
                d.examineQueued.set(false);
                try {
                    examine(d);
                } catch (XenStoreException | IllegalStateException e) {
                    log.accept(d + ": " + e.getMessage());
                }
            });
        }
    }

    /** The step the frontend's state and the bus's record of the backend's give (docs/XENBUS.md). */
    private void examine(Device d) {
        if (devices.get(d.key()) != d || saved.contains(d.domid)) {
            return; // forgotten meanwhile, or saved: left as the save left it
        }
        if (d.adopting && (!Toolstack.exists(store, d.backendPath) || !adoptRestored(d))) {
            return; // its restored nodes are not there yet, or it is not a device of the bus
        }
        if (!Toolstack.exists(store, d.backendPath)) {
            release(d); // the backend's directory was removed under the bus: the device is unplugged
            forget(d, false);
            return;
        }
        int f = frontendState(d);
        int before = d.seenFrontend;
        d.seenFrontend = f;
        switch (f) {
            case XenbusState.INITIALISING -> {
                if (d.backendState == XenbusState.CLOSED && before != XenbusState.INITIALISING) {
                    writeState(d, XenbusState.INITIALISING); // the frontend starts over (reboot, kexec): so does the device
                }
                advance(d, f);
            }
            case XenbusState.INIT_WAIT, XenbusState.INITIALISED, XenbusState.CONNECTED -> advance(d, f);
            case XenbusState.CLOSING -> {
                if (d.backendState != XenbusState.CLOSED) {
                    close(d, XenbusState.CLOSING);
                }
            }
            case XenbusState.RECONFIGURING, XenbusState.RECONFIGURED -> {
                // not used by the frontends served here
            }
            default -> { // Closed, Unknown, or no state at all
                if (d.backendState != XenbusState.CLOSED) {
                    close(d, XenbusState.CLOSED);
                }
                if (!online(d)) {
                    finishRemoval(d, true);
                }
            }
        }
    }

    /** Moves the device on with the backend of its type, if there is one: probe, connect, or resume. */
    private void advance(Device d, int frontend) {
        Backends.Ranked r = backends.serving(d.type);
        if (r == null) {
            return;
        }
        if (d.served == null) {
            switch (d.backendState) {
                case XenbusState.INITIALISING, XenbusState.INIT_WAIT -> {
                    if (!probe(d, r, false)) {
                        return;
                    }
                    writeState(d, XenbusState.INIT_WAIT);
                }
                case XenbusState.CONNECTED -> {
                    if (d.connected && probe(d, r, true)) {
                        connect(d, true);
                    }
                    return;
                }
                default -> {
                    return; // Closing or Closed: the frontend has to start over first
                }
            }
        }
        if (d.backendState == XenbusState.INIT_WAIT
                && (frontend == XenbusState.INITIALISED || frontend == XenbusState.CONNECTED)) {
            connect(d, false);
        }
    }

    private boolean probe(Device d, Backends.Ranked r, boolean resumed) {
        if (!resumed) {
            Toolstack.remove(store, d.backendPath + "/error");
        }
        DeviceLink link = new DeviceLink(d, store, evtchn, grants, resumed);
        String failure;
        try {
            DeviceBackend served = r.backend().probe(link);
            if (served != null) {
                d.served = served;
                d.servedBy = r.backend();
                d.link = link;
                d.servedNow = true;
                return true;
            }
            failure = "the backend gave no device";
        } catch (XenBusException e) {
            failure = e.getMessage();
        } catch (RuntimeException e) {
            log.accept(d + ": the backend's probe failed: " + e);
            failure = "backend failure: " + e;
        }
        fail(d, link, failure, resumed ? XenbusState.CLOSING : XenbusState.CLOSED);
        return false;
    }

    private void connect(Device d, boolean resumed) {
        if (!resumed) {
            releaseParked(d); // a port parked earlier is not this connection's
        }
        String failure;
        try {
            d.served.connect();
            d.connected = true;
            writeState(d, XenbusState.CONNECTED);
            return;
        } catch (XenBusException e) {
            failure = e.getMessage();
        } catch (RuntimeException e) {
            log.accept(d + ": the backend's connect failed: " + e);
            failure = "backend failure: " + e;
        }
        fail(d, d.link, failure, XenbusState.CLOSING);
    }

    /** A probe or connect failed: its message in the backend's {@code error} node, the port closed, the device closing. */
    private void fail(Device d, DeviceLink link, String message, int state) {
        writeIfPresent(d, "error", message == null ? "failed" : message);
        link.retire(false);
        releaseParked(d);
        d.unserve();
        d.connected = false;
        writeState(d, state);
    }

    /** The frontend closes (or the device goes): the backend disconnected, the port closed, the backend's state set. */
    private void close(Device d, int state) {
        release(d);
        writeState(d, state);
    }

    /** Ends the device's service: the backend disconnected if connected, its link retired, its port closed. */
    private void release(Device d) {
        if (d.served != null && d.connected) {
            try {
                d.served.disconnect();
            } catch (RuntimeException e) {
                log.accept(d + ": the backend failed to disconnect: " + e);
            }
        }
        if (d.link != null) {
            d.link.retire(false);
        }
        releaseParked(d);
        d.unserve();
        d.connected = false;
    }

    /** Closes the device's port if it is parked (handed over, and nobody took it). */
    private void releaseParked(Device d) {
        try {
            if (evtchn.isParked(d.handleName)) {
                evtchn.open(d.handleName).close();
            }
        } catch (IllegalStateException e) {
            log.accept(d + ": its parked port: " + e.getMessage());
        }
    }

    /** The toolstack's removal completes: both directories go. */
    private void finishRemoval(Device d, boolean frontendClosed) {
        Toolstack.remove(store, d.frontendPath);
        Toolstack.removeBackend(store, d.type, d.domid, d.devid);
        forget(d, frontendClosed);
    }

    private void forget(Device d, boolean removed) {
        devices.remove(d.key(), d);
        d.frontendWatch.close();
        d.backendWatch.close();
        if (d.removal != null) {
            d.removal.complete(removed);
        }
    }

    private int frontendState(Device d) {
        return NodeValues.state(Toolstack.read(store, d.frontendPath + "/state"));
    }

    /** Linux's xenbus_dev_is_online: the backend's {@code online} node, missing counting as 0. */
    private boolean online(Device d) {
        String online = Toolstack.read(store, d.backendPath + "/online");
        return online != null && !online.equals("0");
    }

    private void writeState(Device d, int state) {
        if (d.backendState != state || !String.valueOf(state).equals(Toolstack.read(store, d.backendPath + "/state"))) {
            d.backendState = state;
            writeIfPresent(d, "state", Integer.toString(state));
        }
    }

    /** Writes a node of the backend's directory, unless the directory was removed (a write would make it again). */
    private void writeIfPresent(Device d, String key, String value) {
        for (int attempt = 1; ; attempt++) {
            try (XenStoreTransaction t = store.transactionStart()) {
                if (!Toolstack.exists(t, d.backendPath)) {
                    return;
                }
                t.write(d.backendPath + "/" + key, value);
                t.commit();
                return;
            } catch (XenStoreException e) {
                if (!e.error().equals("EAGAIN") || attempt == Toolstack.TRIES) {
                    throw e;
                }
            }
        }
    }

    /** Runs {@code op} on the bus thread and waits; nothing once the bus is stopped. */
    private void onBus(Runnable op) {
        try {
            thread.call(() -> {
                op.run();
                return null;
            });
        } catch (IllegalStateException e) {
            // the bus is stopped: its devices were handed over already
        }
    }

    /**
     * The bus goes (its bundle stops or is updated): every connected device is handed over by its
     * backend and its port parked, the states left as they are in XenStore, for the next bus to
     * adopt; a removal waiting returns false.
     */
    @Deactivate
    public void deactivate() {
        try {
            thread.stopAfter(() -> {
                for (Backends.Ranked r : backends.all()) {
                    handOver(r.backend());
                }
                for (Device d : List.copyOf(devices.values())) {
                    forget(d, false);
                }
            });
        } catch (IllegalStateException e) {
            // stopped already
        }
    }
}
