package xen.store.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreNodes;
import xen.evtchn.api.store.XenStoreTransaction;
import xen.evtchn.api.store.XenStoreWatch;
import xen.store.tree.Perms;
import xen.store.tree.Store;
import xen.store.tree.StoreException;
import xen.store.tree.Watcher;

/**
 * The host's XenStore (libxenstore's handle of dom0): every call runs on the store's thread
 * ({@link Serial}), in turn with the guests' requests, and the caller waits for its answer. Watch
 * events are queued, at most {@value #EVENTS_MAX}, for one thread of their own that calls the
 * callbacks in order, so a callback never runs under the store's lock and a slow one never stalls
 * the store; beyond the bound events are dropped and counted, as a guest connection's are.
 */
final class HostStore implements XenStore {
    /** Watch events waiting for their callbacks, all watches together. */
    static final int EVENTS_MAX = 1024;

    /** Runs an operation on the store's thread and returns its result (or throws its exception). */
    interface Serial {
        <T> T call(Supplier<T> op);
    }

    private final Store store;
    private final Serial serial;
    private final Consumer<String> log;
    private final ThreadPoolExecutor events;
    private final AtomicLong dropped = new AtomicLong();
    private final Nodes live = new Nodes(0);

    HostStore(Store store, Serial serial, Consumer<String> log) {
        this.store = store;
        this.serial = serial;
        this.log = log;
        this.events = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(EVENTS_MAX),
                Thread.ofPlatform().name("xen.store-watches").daemon(true).factory());
    }

    @Override
    public byte[] read(String path) {
        return live.read(path);
    }

    @Override
    public void write(String path, byte[] value) {
        live.write(path, value);
    }

    @Override
    public void mkdir(String path) {
        live.mkdir(path);
    }

    @Override
    public void rm(String path) {
        live.rm(path);
    }

    @Override
    public List<String> directory(String path) {
        return live.directory(path);
    }

    @Override
    public List<String> getPermissions(String path) {
        return live.getPermissions(path);
    }

    @Override
    public void setPermissions(String path, List<String> permissions) {
        live.setPermissions(path, permissions);
    }

    @Override
    public XenStoreTransaction transactionStart() {
        return new Transaction(call("transaction_start", "", () -> store.startTransaction(Perms.PRIVILEGED)));
    }

    @Override
    public XenStoreWatch watch(String path, String token, XenStoreWatch.Callback callback) {
        Objects.requireNonNull(callback, "callback");
        HostWatch w = new HostWatch(Objects.requireNonNull(path, "path"), Objects.requireNonNull(token, "token"), callback);
        call("watch", path, () -> {
            store.watch(w, path, token);
            return null;
        });
        return w;
    }

    /** Watch events dropped because their queue was full. */
    long droppedEvents() {
        return dropped.get();
    }

    /** Stops delivering watch events (the store is going). */
    void close() {
        events.shutdownNow();
    }

    /** Runs {@code op} on the store's thread; a refusal becomes the api's exception, naming the operation and path. */
    private <T> T call(String operation, String path, Supplier<T> op) {
        return serial.call(() -> {
            try {
                return op.get();
            } catch (StoreException e) {
                throw new XenStoreException(e.error().name(), path.isEmpty() ? operation : operation + " " + path);
            }
        });
    }

    /** The node operations in transaction {@code tx} (0: the live tree), each as dom0. */
    private class Nodes implements XenStoreNodes {
        final int tx;

        Nodes(int tx) {
            this.tx = tx;
        }

        @Override
        public byte[] read(String path) {
            return call("read", path, () -> store.read(Perms.PRIVILEGED, tx, path));
        }

        @Override
        public void write(String path, byte[] value) {
            Objects.requireNonNull(value, "value");
            byte[] copy = value.clone();
            call("write", path, () -> {
                store.write(Perms.PRIVILEGED, tx, path, copy);
                return null;
            });
        }

        @Override
        public void mkdir(String path) {
            call("mkdir", path, () -> {
                store.mkdir(Perms.PRIVILEGED, tx, path);
                return null;
            });
        }

        @Override
        public void rm(String path) {
            call("rm", path, () -> {
                store.rm(Perms.PRIVILEGED, tx, path);
                return null;
            });
        }

        @Override
        public List<String> directory(String path) {
            return call("directory", path, () -> store.directory(Perms.PRIVILEGED, tx, path));
        }

        @Override
        public List<String> getPermissions(String path) {
            return call("get_perms", path, () -> {
                List<String> out = new ArrayList<>();
                for (Perms.Entry e : store.getPerms(Perms.PRIVILEGED, tx, path).entries()) {
                    out.add(e.access().letter() + Integer.toString(e.domid()));
                }
                return List.copyOf(out);
            });
        }

        @Override
        public void setPermissions(String path, List<String> permissions) {
            List<String> copy = List.copyOf(permissions);
            call("set_perms", path, () -> {
                store.setPerms(Perms.PRIVILEGED, tx, path, Perms.parse(copy));
                return null;
            });
        }
    }

    private final class Transaction extends Nodes implements XenStoreTransaction {
        private boolean ended;

        Transaction(int tx) {
            super(tx);
        }

        @Override
        public void commit() {
            end(true);
        }

        @Override
        public void abort() {
            end(false);
        }

        @Override
        public void close() {
            if (!isEnded()) {
                abort();
            }
        }

        private synchronized boolean isEnded() {
            return ended;
        }

        private void end(boolean commit) {
            synchronized (this) {
                ended = true;
            }
            call("transaction_end", "", () -> {
                store.endTransaction(Perms.PRIVILEGED, tx, commit);
                return null;
            });
        }
    }

    /** One watch of the host: the store calls {@link #event} under its lock; the callback runs on the events' thread. */
    private final class HostWatch implements Watcher, XenStoreWatch {
        private final String path;
        private final String token;
        private final XenStoreWatch.Callback callback;
        private volatile boolean closed;

        HostWatch(String path, String token, XenStoreWatch.Callback callback) {
            this.path = path;
            this.token = token;
            this.callback = callback;
        }

        @Override
        public int domid() {
            return Perms.PRIVILEGED;
        }

        @Override
        public void event(String eventPath, String eventToken) {
            try {
                events.execute(() -> deliver(eventPath, eventToken));
            } catch (RejectedExecutionException e) {
                dropped.incrementAndGet();
            }
        }

        private void deliver(String eventPath, String eventToken) {
            if (closed) {
                return;
            }
            try {
                callback.event(eventPath, eventToken);
            } catch (RuntimeException e) {
                log.accept("watch " + path + " " + token + ": callback failed: " + e);
            }
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public String token() {
            return token;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                call("unwatch", path, () -> {
                    store.unwatch(this, path, token);
                    return null;
                });
            } catch (XenStoreException | IllegalStateException e) {
                // gone already, or the store stopped
            }
        }
    }
}
