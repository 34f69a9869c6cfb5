package xen.store.tree;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The XenStore tree with xenstored's rules, behind one lock. Every operation names the calling
 * domain and, for the node operations, a transaction (0 for none); a refusal is a
 * {@link StoreException} carrying xenstored's error. Paths may be relative to the caller's home.
 *
 * <p>Permissions (xenstored's perm_for_conn): dom0 and a node's owner may do anything; another
 * domain has the access its entry in the node's list gives, else the first entry's. Reading needs
 * READ, changing needs WRITE, creating needs WRITE on the nearest existing ancestor, and the new
 * nodes inherit its permissions, owned by the creator when that is an unprivileged domain. A missing
 * node is ENOENT only to a domain that may read its nearest existing ancestor, EACCES otherwise, so
 * that nobody learns what exists where it may not look.
 *
 * <p>Transactions see their own copy-on-write view; a commit fails with EAGAIN if any node the
 * transaction read or changed has changed meanwhile (its generation differs). Watches fire once
 * when registered and for every change at or below their path that their domain may read.
 */
public final class Store {
    private static final byte[] EMPTY = new byte[0];
    /** Marks a node a transaction removed. */
    private static final Node REMOVED = new Node(EMPTY, Perms.of(Perms.PRIVILEGED, Access.NONE), Node.NO_CHILDREN, -1);

    private final Quotas quotas;
    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<Integer, Integer> owned = new HashMap<>();
    /** By {@link #key(int, int)}: a transaction id is its domain's (one restored may equal another domain's). */
    private final Map<Long, Transaction> transactions = new HashMap<>();
    private final List<Watch> watches = new ArrayList<>();
    private final View live = new LiveView();
    private long generation;
    private int lastTransaction;

    /** A watch: its watcher, its absolute (or special) path, the path as registered, its token. */
    private record Watch(Watcher watcher, String path, String given, String token) {
    }

    /** One node as a save carries it: its absolute path, value and permissions. */
    public record NodeState(String path, byte[] value, Perms perms) {
    }

    /** One watch as a save carries it: the path as registered and the token. */
    public record WatchState(String path, String token) {
    }

    /** A change for the watches: the node's path, the permissions that decide who hears of it, whether a subtree went. */
    private record Change(String path, Perms perms, boolean removedTree) {
    }

    public Store(Quotas quotas) {
        this.quotas = quotas;
        nodes.put(StorePath.ROOT, new Node(EMPTY, Perms.of(Perms.PRIVILEGED, Access.NONE), Node.NO_CHILDREN, 0));
        owned.put(Perms.PRIVILEGED, 1);
    }

    public Quotas quotas() {
        return quotas;
    }

    // ---- node operations ----

    public synchronized byte[] read(int caller, int tx, String path) {
        View view = view(caller, tx);
        return view.readable(caller, StorePath.canonical(caller, path, false)).value().clone();
    }

    public synchronized List<String> directory(int caller, int tx, String path) {
        View view = view(caller, tx);
        return List.copyOf(view.readable(caller, StorePath.canonical(caller, path, false)).children());
    }

    public synchronized Perms getPerms(int caller, int tx, String path) {
        View view = view(caller, tx);
        return view.readable(caller, StorePath.canonical(caller, path, false)).perms();
    }

    /** The node's generation, as XS_DIRECTORY_PART reports it with each part. */
    public synchronized long generation(int caller, int tx, String path) {
        View view = view(caller, tx);
        return view.readable(caller, StorePath.canonical(caller, path, false)).generation();
    }

    /** Writes a value, creating the node and any missing parent as xenstored does. */
    public synchronized void write(int caller, int tx, String path, byte[] value) {
        View view = view(caller, tx);
        String abs = StorePath.canonical(caller, path, false);
        Node node = view.get(abs);
        long gen = ++generation;
        if (node == null) {
            Perms perms = view.create(caller, abs, value.clone(), gen);
            view.changed(new Change(abs, perms, false));
        } else {
            view.require(caller, node, true);
            checkValue(caller, value);
            view.put(abs, node.withValue(value.clone(), gen));
            view.changed(new Change(abs, node.perms(), false));
        }
    }

    /** Creates an empty node and any missing parent; an existing node is fine if the caller may write it. */
    public synchronized void mkdir(int caller, int tx, String path) {
        View view = view(caller, tx);
        String abs = StorePath.canonical(caller, path, false);
        Node node = view.get(abs);
        if (node != null) {
            view.require(caller, node, true);
            return;
        }
        Perms perms = view.create(caller, abs, EMPTY, ++generation);
        view.changed(new Change(abs, perms, false));
    }

    /** Removes a node and everything below it; a missing node whose parent exists is fine, as in xenstored. */
    public synchronized void rm(int caller, int tx, String path) {
        View view = view(caller, tx);
        String abs = StorePath.canonical(caller, path, false);
        if (abs.equals(StorePath.ROOT)) {
            throw new StoreException(XsError.EINVAL);
        }
        Node node = view.get(abs);
        if (node == null) {
            StoreException missing = view.missing(caller, abs);
            if (missing.error() == XsError.ENOENT && view.get(StorePath.parent(abs)) != null) {
                return;
            }
            throw missing;
        }
        view.require(caller, node, true);
        long gen = ++generation;
        ArrayDeque<String> pending = new ArrayDeque<>();
        pending.push(abs);
        while (!pending.isEmpty()) {
            String p = pending.pop();
            Node n = view.get(p);
            for (String child : n.children()) {
                pending.push(StorePath.child(p, child));
            }
            view.remove(p, n);
        }
        String parentPath = StorePath.parent(abs);
        Node parent = view.get(parentPath);
        view.put(parentPath, parent.withChild(StorePath.name(abs), false, gen));
        view.changed(new Change(abs, node.perms(), true));
    }

    /**
     * Sets a node's permissions: only its owner or dom0 may, and only dom0 may give a node to
     * another owner (EPERM otherwise, as xenstored since XSA-115's fixes).
     */
    public synchronized void setPerms(int caller, int tx, String path, Perms perms) {
        View view = view(caller, tx);
        String abs = StorePath.canonical(caller, path, false);
        Node node = view.writable(caller, abs);
        if (caller != Perms.PRIVILEGED) {
            if (caller != node.perms().owner()) {
                throw new StoreException(XsError.EACCES);
            }
            if (perms.owner() != caller) {
                throw new StoreException(XsError.EPERM);
            }
            if (perms.entries().size() > quotas.perms()) {
                throw new StoreException(XsError.ENOSPC);
            }
        }
        view.put(abs, node.withPerms(perms, ++generation));
        view.changed(new Change(abs, perms, false));
    }

    // ---- transactions ----

    /** Starts a transaction of the caller; its id is never 0. ENOSPC beyond the quota. */
    public synchronized int startTransaction(int caller) {
        if (caller != Perms.PRIVILEGED) {
            long open = transactions.values().stream().filter(t -> t.domid == caller).count();
            if (open >= quotas.transactions()) {
                throw new StoreException(XsError.ENOSPC);
            }
        }
        do {
            lastTransaction++;
        } while (lastTransaction == 0 || transactions.containsKey(key(caller, lastTransaction)));
        transactions.put(key(caller, lastTransaction), new Transaction(lastTransaction, caller));
        return lastTransaction;
    }

    /**
     * Ends a transaction: an abort drops it; a commit applies it, or fails with EAGAIN (and drops
     * it) if a node it read or changed has changed since. ENOENT for no such transaction of the caller.
     */
    public synchronized void endTransaction(int caller, int tx, boolean commit) {
        Transaction t = transaction(caller, tx);
        transactions.remove(key(caller, tx));
        if (!commit) {
            return;
        }
        if (t.doomed) {
            throw new StoreException(XsError.EAGAIN); // it outlived the store it began in
        }
        for (Map.Entry<String, Long> seen : t.seen.entrySet()) {
            Node now = nodes.get(seen.getKey());
            if ((now == null ? -1 : now.generation()) != seen.getValue()) {
                throw new StoreException(XsError.EAGAIN);
            }
        }
        if (caller != Perms.PRIVILEGED && owned(caller) + t.delta.getOrDefault(caller, 0) > quotas.nodes()) {
            throw new StoreException(XsError.ENOSPC);
        }
        long gen = ++generation;
        for (Map.Entry<String, Node> e : t.overlay.entrySet()) {
            Node n = e.getValue();
            if (n == REMOVED) {
                Node old = nodes.get(e.getKey());
                if (old != null) {
                    live.remove(e.getKey(), old);
                }
            } else {
                live.put(e.getKey(), new Node(n.value(), n.perms(), n.children(), gen));
            }
        }
        for (Change c : t.changes) {
            fire(c);
        }
    }

    // ---- watches ----

    /**
     * Registers a watch and fires it once, as xenstored does. Special paths ({@code @introduceDomain},
     * {@code @releaseDomain}) are accepted. EEXIST for the same path and token twice, E2BIG beyond the quota.
     */
    public synchronized void watch(Watcher watcher, String path, String token) {
        int caller = watcher.domid();
        String abs = StorePath.canonical(caller, path, true);
        int count = 0;
        for (Watch w : watches) {
            if (w.watcher == watcher) {
                if (w.given.equals(path) && w.token.equals(token)) {
                    throw new StoreException(XsError.EEXIST);
                }
                count++;
            }
        }
        if (caller != Perms.PRIVILEGED && count >= quotas.watches()) {
            throw new StoreException(XsError.E2BIG);
        }
        watches.add(new Watch(watcher, abs, path, token));
        watcher.event(path, token);
    }

    /** Removes a watch given as registered; ENOENT if there is none. */
    public synchronized void unwatch(Watcher watcher, String path, String token) {
        StorePath.canonical(watcher.domid(), path, true);
        for (Iterator<Watch> i = watches.iterator(); i.hasNext();) {
            Watch w = i.next();
            if (w.watcher == watcher && w.given.equals(path) && w.token.equals(token)) {
                i.remove();
                return;
            }
        }
        throw new StoreException(XsError.ENOENT);
    }

    /** XS_RESET_WATCHES: drops the watcher's watches and its domain's transactions. */
    public synchronized void reset(Watcher watcher) {
        watches.removeIf(w -> w.watcher == watcher);
        transactions.values().removeIf(t -> t.domid == watcher.domid());
    }

    // ---- the host's (the toolstack's) calls ----

    /** A domain comes: its home /local/domain/&lt;domid&gt; is made if missing, owned by it, and @introduceDomain fires. */
    public synchronized void introduceDomain(int domid) {
        String home = StorePath.home(domid);
        if (nodes.get(home) == null) {
            mkdir(Perms.PRIVILEGED, 0, home);
            setPerms(Perms.PRIVILEGED, 0, home, Perms.of(domid, Access.NONE));
        }
        fireSpecial(StorePath.INTRODUCE_DOMAIN);
    }

    /** A domain goes: its watches and transactions are dropped and @releaseDomain fires. Its nodes stay, as the toolstack removes them. */
    public synchronized void releaseDomain(int domid) {
        watches.removeIf(w -> w.watcher.domid() == domid);
        transactions.values().removeIf(t -> t.domid == domid);
        fireSpecial(StorePath.RELEASE_DOMAIN);
    }

    /** The nodes a domain owns, as its node quota counts them. */
    public synchronized int owned(int domid) {
        return owned.getOrDefault(domid, 0);
    }

    /** Every node of the live tree. */
    public synchronized int size() {
        return nodes.size();
    }

    /** The watches registered, all watchers together. */
    public synchronized int watchCount() {
        return watches.size();
    }

    // ---- a domain's state, for a save and a restore (docs/SAVE-RESTORE.md, the xen.store part) ----

    /**
     * The node at {@code abs} and every node below it, parents before children (children in name
     * order), leaving out the subtrees at {@code excluded}; empty if there is no such node.
     */
    public synchronized List<NodeState> export(String abs, java.util.Set<String> excluded) {
        List<NodeState> out = new ArrayList<>();
        if (nodes.get(abs) == null || excluded.contains(abs)) {
            return out;
        }
        ArrayDeque<String> pending = new ArrayDeque<>();
        pending.push(abs);
        while (!pending.isEmpty()) {
            String p = pending.pop();
            Node n = nodes.get(p);
            out.add(new NodeState(p, n.value().clone(), n.perms()));
            List<String> children = new ArrayList<>(n.children());
            for (int i = children.size() - 1; i >= 0; i--) {
                String c = StorePath.child(p, children.get(i));
                if (!excluded.contains(c)) {
                    pending.push(c);
                }
            }
        }
        return out;
    }

    /**
     * Puts a saved node as the host (dom0): its value and permissions, whatever the quotas (the
     * restore checked them); missing parents are made as dom0's writes make them. Watches fire.
     */
    public synchronized void restoreNode(NodeState node) {
        write(Perms.PRIVILEGED, 0, node.path(), node.value());
        setPerms(Perms.PRIVILEGED, 0, node.path(), node.perms());
    }

    /** The watcher's watches, in the order they were registered. */
    public synchronized List<WatchState> watches(Watcher watcher) {
        List<WatchState> out = new ArrayList<>();
        for (Watch w : watches) {
            if (w.watcher == watcher) {
                out.add(new WatchState(w.given, w.token));
            }
        }
        return out;
    }

    /** The ids of {@code domid}'s open transactions, ascending. */
    public synchronized List<Integer> transactionIds(int domid) {
        return transactions.values().stream().filter(t -> t.domid == domid).map(t -> t.id).sorted().toList();
    }

    /**
     * Transactions of {@code domid} that began before a restore (or a new store instance): they
     * work as any other, on the tree as it is now, but their commit is EAGAIN, as after
     * xenstored's restart; aborting them is fine. An id the domain has open is left alone.
     */
    public synchronized void restoreDoomedTransactions(int domid, List<Integer> ids) {
        for (int id : ids) {
            if (id != 0) {
                Transaction t = new Transaction(id, domid);
                t.doomed = true;
                transactions.putIfAbsent(key(domid, id), t);
            }
        }
    }

    /** The open transactions, all domains together. */
    public synchronized int transactionCount() {
        return transactions.size();
    }

    // ---- internals ----

    /** A value's size, checked after the permissions as xenstored does: ENOSPC beyond the wire or the quota. */
    private void checkValue(int caller, byte[] value) {
        if (value.length > Quotas.PAYLOAD_MAX || (caller != Perms.PRIVILEGED && value.length > quotas.valueSize())) {
            throw new StoreException(XsError.ENOSPC);
        }
    }

    private static long key(int domid, int tx) {
        return (long) domid << 32 | Integer.toUnsignedLong(tx);
    }

    private View view(int caller, int tx) {
        return tx == 0 ? live : transaction(caller, tx);
    }

    private Transaction transaction(int caller, int tx) {
        Transaction t = transactions.get(key(caller, tx));
        if (t == null) {
            throw new StoreException(XsError.ENOENT);
        }
        return t;
    }

    private void fire(Change c) {
        for (Watch w : watches) {
            String eventPath;
            if (w.path.charAt(0) == '@') {
                continue;
            } else if (StorePath.isAtOrBelow(c.path, w.path)) {
                eventPath = c.path;
            } else if (c.removedTree && StorePath.isAtOrBelow(w.path, c.path)) {
                eventPath = w.path;
            } else {
                continue;
            }
            int domid = w.watcher.domid();
            if (!c.perms.accessOf(domid).canRead()) {
                continue;
            }
            boolean relative = w.given.charAt(0) != '/';
            w.watcher.event(relative ? StorePath.relativeTo(domid, eventPath) : eventPath, w.token);
        }
    }

    private void fireSpecial(String special) {
        for (Watch w : watches) {
            if (w.path.equals(special)) {
                w.watcher.event(special, w.token);
            }
        }
    }

    /** Where the node operations read and write: the live tree, or a transaction's view of it. */
    private abstract class View {
        abstract Node get(String path);

        abstract void put(String path, Node node);

        abstract void remove(String path, Node old);

        abstract int ownedCount(int domid);

        abstract void changed(Change change);

        Node readable(int caller, String abs) {
            Node node = get(abs);
            if (node == null) {
                throw missing(caller, abs);
            }
            require(caller, node, false);
            return node;
        }

        Node writable(int caller, String abs) {
            Node node = get(abs);
            if (node == null) {
                throw missing(caller, abs);
            }
            require(caller, node, true);
            return node;
        }

        void require(int caller, Node node, boolean write) {
            Access access = node.perms().accessOf(caller);
            if (write ? !access.canWrite() : !access.canRead()) {
                throw new StoreException(XsError.EACCES);
            }
        }

        /** ENOENT if the caller may read the nearest existing ancestor, else EACCES. */
        StoreException missing(int caller, String abs) {
            String p = abs;
            Node ancestor = null;
            while (ancestor == null && !p.equals(StorePath.ROOT)) {
                p = StorePath.parent(p);
                ancestor = get(p);
            }
            boolean mayKnow = ancestor != null && ancestor.perms().accessOf(caller).canRead();
            return new StoreException(mayKnow ? XsError.ENOENT : XsError.EACCES);
        }

        /** Creates {@code abs} and its missing parents; returns their permissions. */
        Perms create(int caller, String abs, byte[] value, long gen) {
            List<String> missing = new ArrayList<>();
            String p = abs;
            Node ancestor;
            do {
                missing.add(p);
                p = StorePath.parent(p);
                ancestor = get(p);
            } while (ancestor == null);
            if (!ancestor.perms().accessOf(caller).canWrite()) {
                throw new StoreException(XsError.EACCES);
            }
            checkValue(caller, value);
            Perms perms = caller == Perms.PRIVILEGED ? ancestor.perms() : ancestor.perms().ownedBy(caller);
            if (caller != Perms.PRIVILEGED && ownedCount(caller) + missing.size() > quotas.nodes()) {
                throw new StoreException(XsError.ENOSPC);
            }
            String parentPath = p;
            Node parent = ancestor;
            for (int i = missing.size() - 1; i >= 0; i--) {
                String path = missing.get(i);
                put(parentPath, parent.withChild(StorePath.name(path), true, gen));
                Node node = new Node(i == 0 ? value : EMPTY, perms, Node.NO_CHILDREN, gen);
                put(path, node);
                parentPath = path;
                parent = node;
            }
            return perms;
        }
    }

    private final class LiveView extends View {
        @Override
        Node get(String path) {
            return nodes.get(path);
        }

        @Override
        void put(String path, Node node) {
            Node old = nodes.put(path, node);
            if (old != null) {
                owned.merge(old.perms().owner(), -1, Integer::sum);
            }
            owned.merge(node.perms().owner(), 1, Integer::sum);
        }

        @Override
        void remove(String path, Node old) {
            nodes.remove(path);
            owned.merge(old.perms().owner(), -1, Integer::sum);
        }

        @Override
        int ownedCount(int domid) {
            return owned(domid);
        }

        @Override
        void changed(Change change) {
            fire(change);
        }
    }

    /** A transaction: its own nodes over the live tree, the generations it saw, its changes for the watches. */
    private final class Transaction extends View {
        final int id;
        final int domid;
        final Map<String, Node> overlay = new HashMap<>();
        final Map<String, Long> seen = new HashMap<>();
        final Map<Integer, Integer> delta = new HashMap<>();
        final List<Change> changes = new ArrayList<>();
        /** Began before a restore: its commit is EAGAIN. */
        boolean doomed;

        Transaction(int id, int domid) {
            this.id = id;
            this.domid = domid;
        }

        @Override
        Node get(String path) {
            Node mine = overlay.get(path);
            if (mine != null) {
                return mine == REMOVED ? null : mine;
            }
            Node node = nodes.get(path);
            if (!seen.containsKey(path)) {
                if (domid != Perms.PRIVILEGED && seen.size() >= quotas.transactionNodes()) {
                    throw new StoreException(XsError.ENOSPC);
                }
                seen.put(path, node == null ? -1 : node.generation());
            }
            return node;
        }

        @Override
        void put(String path, Node node) {
            Node old = get(path);
            if (old != null) {
                delta.merge(old.perms().owner(), -1, Integer::sum);
            }
            delta.merge(node.perms().owner(), 1, Integer::sum);
            overlay.put(path, node);
        }

        @Override
        void remove(String path, Node old) {
            delta.merge(old.perms().owner(), -1, Integer::sum);
            overlay.put(path, REMOVED);
        }

        @Override
        int ownedCount(int who) {
            return owned(who) + delta.getOrDefault(who, 0);
        }

        @Override
        void changed(Change change) {
            changes.add(change);
        }

        @Override
        public String toString() {
            return "transaction " + id + " of domain " + domid;
        }
    }
}
