package xen.store.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Random sequences of node operations from dom0 and two guests, against a small model of
 * xenstored's semantics written plainly from its rules (a map of path to value and permissions):
 * after every operation the store and the model give the same answer (value, listing, permissions
 * or error) and the same watch events to the same watchers; at the end the whole trees agree.
 * Small quotas (8 nodes, 16-byte values) make ENOSPC part of the sequences. jqwik shrinks a
 * failing sequence to a short one.
 */
class StoreModelTest {
    static final Quotas QUOTAS = new Quotas(8, 16, 128, 10, 1024, 5, 1024);
    static final String[] BASES = {"/local/domain/1", "/local/domain/2", "/x"};
    static final String[] TAILS = {"a", "b", "a/b", "a/c", "b/a/c", "c"};
    static final String[] VALUES = {"", "v", "value-16-bytes!!", "value-of-17-bytes"};
    static final String[] PERMS = {"n1", "r2", "b2", "w2", "n2", "r1", "n0"};

    enum Kind { READ, WRITE, MKDIR, RM, DIRECTORY, GET_PERMS, SET_PERMS }

    /** One operation: who, what, where (base, tail), with which value or permission list. */
    record Op(Kind kind, int domid, int base, int tail, int value, int perm1, int perm2) {
        String path() {
            String abs = BASES[base] + "/" + TAILS[tail];
            String home = StorePath.home(domid) + "/";
            return abs.startsWith(home) && (tail % 2 == 0) ? abs.substring(home.length()) : abs;
        }

        List<String> perms() {
            return perm2 < PERMS.length ? List.of(PERMS[perm1], PERMS[perm2]) : List.of(PERMS[perm1]);
        }
    }

    @Provide
    Arbitrary<Op> ops() {
        return Combinators.combine(Arbitraries.of(Kind.values()), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, BASES.length - 1), Arbitraries.integers().between(0, TAILS.length - 1),
                Arbitraries.integers().between(0, VALUES.length - 1), Arbitraries.integers().between(0, PERMS.length - 1),
                Arbitraries.integers().between(0, PERMS.length)).as(Op::new);
    }

    // ---- the model ----

    record MNode(String value, List<Perms.Entry> perms) {
        int owner() {
            return perms.get(0).domid();
        }
    }

    static final class Model {
        final TreeMap<String, MNode> tree = new TreeMap<>();
        /** Watches: domid → (absolute path, path as given, token). */
        final List<String[]> watches = new ArrayList<>();
        final Map<Integer, List<String>> events = new HashMap<>();

        Model() {
            // What introduceDomain(1) and (2) make: dom0's /local/domain, each home owned by its domain.
            for (String p : List.of("/", "/local", "/local/domain")) {
                tree.put(p, new MNode("", List.of(new Perms.Entry(0, Access.NONE))));
            }
            for (int d = 1; d <= 2; d++) {
                tree.put("/local/domain/" + d, new MNode("", List.of(new Perms.Entry(d, Access.NONE))));
            }
        }

        static Access access(int domid, MNode n) {
            if (domid == 0 || domid == n.owner()) {
                return Access.BOTH;
            }
            for (Perms.Entry e : n.perms.subList(1, n.perms.size())) {
                if (e.domid() == domid) {
                    return e.access();
                }
            }
            return n.perms.get(0).access();
        }

        static String parent(String p) {
            int i = p.lastIndexOf('/');
            return i == 0 ? "/" : p.substring(0, i);
        }

        static String abs(int domid, String p) {
            return p.startsWith("/") ? p : "/local/domain/" + domid + "/" + p;
        }

        String missing(int domid, String p) {
            String a = parent(p);
            while (!tree.containsKey(a)) {
                a = parent(a);
            }
            return access(domid, tree.get(a)).canRead() ? "ENOENT" : "EACCES";
        }

        List<String> children(String p) {
            List<String> c = new ArrayList<>();
            String prefix = p.equals("/") ? "/" : p + "/";
            for (String k : tree.keySet()) {
                if (k.startsWith(prefix) && k.length() > prefix.length() && k.indexOf('/', prefix.length()) < 0) {
                    c.add(k.substring(prefix.length()));
                }
            }
            return c;
        }

        long owned(int domid) {
            return tree.values().stream().filter(n -> n.owner() == domid).count();
        }

        String apply(Op op) {
            String p = abs(op.domid(), op.path());
            int d = op.domid();
            MNode n = tree.get(p);
            switch (op.kind()) {
                case READ, DIRECTORY, GET_PERMS -> {
                    if (n == null) {
                        return missing(d, p);
                    }
                    if (!access(d, n).canRead()) {
                        return "EACCES";
                    }
                    return switch (op.kind()) {
                        case READ -> "=" + n.value;
                        case DIRECTORY -> children(p).toString();
                        default -> new Perms(n.perms).toWire();
                    };
                }
                case WRITE, MKDIR -> {
                    String value = op.kind() == Kind.WRITE ? VALUES[op.value()] : "";
                    if (n != null) {
                        if (!access(d, n).canWrite()) {
                            return "EACCES";
                        }
                        if (op.kind() == Kind.MKDIR) {
                            return "OK";
                        }
                        if (d != 0 && value.length() > QUOTAS.valueSize()) {
                            return "ENOSPC";
                        }
                        tree.put(p, new MNode(value, n.perms));
                        fire(p, n.perms, false);
                        return "OK";
                    }
                    List<String> created = new ArrayList<>();
                    String a = p;
                    while (!tree.containsKey(a)) {
                        created.add(0, a);
                        a = parent(a);
                    }
                    MNode anc = tree.get(a);
                    if (!access(d, anc).canWrite()) {
                        return "EACCES";
                    }
                    if (d != 0 && (value.length() > QUOTAS.valueSize() || owned(d) + created.size() > QUOTAS.nodes())) {
                        return "ENOSPC";
                    }
                    List<Perms.Entry> perms = new ArrayList<>(anc.perms);
                    if (d != 0) {
                        perms.set(0, new Perms.Entry(d, perms.get(0).access()));
                    }
                    for (String c : created) {
                        tree.put(c, new MNode(c.equals(p) ? value : "", List.copyOf(perms)));
                    }
                    fire(p, perms, false);
                    return "OK";
                }
                case RM -> {
                    if (n == null) {
                        String e = missing(d, p);
                        return e.equals("ENOENT") && tree.containsKey(parent(p)) ? "OK" : e;
                    }
                    if (!access(d, n).canWrite()) {
                        return "EACCES";
                    }
                    tree.keySet().removeIf(k -> k.equals(p) || k.startsWith(p + "/"));
                    fire(p, n.perms, true);
                    return "OK";
                }
                case SET_PERMS -> {
                    if (n == null) {
                        return missing(d, p);
                    }
                    if (!access(d, n).canWrite()) {
                        return "EACCES";
                    }
                    List<Perms.Entry> perms = Perms.parse(op.perms()).entries();
                    if (d != 0) {
                        if (d != n.owner()) {
                            return "EACCES";
                        }
                        if (perms.get(0).domid() != d) {
                            return "EPERM";
                        }
                    }
                    tree.put(p, new MNode(n.value, perms));
                    fire(p, perms, false);
                    return "OK";
                }
                default -> throw new AssertionError(op);
            }
        }

        static boolean atOrBelow(String p, String a) {
            return a.equals("/") || p.equals(a) || p.startsWith(a + "/");
        }

        void watch(int domid, String given, String token) {
            watches.add(new String[] {Integer.toString(domid), abs(domid, given), given, token});
            events.computeIfAbsent(domid, k -> new ArrayList<>()).add(given + " " + token);
        }

        void fire(String p, List<Perms.Entry> perms, boolean removed) {
            for (String[] w : watches) {
                int domid = Integer.parseInt(w[0]);
                String path;
                if (atOrBelow(p, w[1])) {
                    path = p;
                } else if (removed && atOrBelow(w[1], p)) {
                    path = w[1];
                } else {
                    continue;
                }
                if (!access(domid, new MNode("", perms)).canRead()) {
                    continue;
                }
                String home = "/local/domain/" + domid + "/";
                if (!w[2].startsWith("/") && path.startsWith(home)) {
                    path = path.substring(home.length());
                }
                events.get(domid).add(path + " " + w[3]);
            }
        }
    }

    // ---- the comparison ----

    static String run(Store store, Op op) {
        try {
            return switch (op.kind()) {
                case READ -> "=" + new String(store.read(op.domid(), 0, op.path()), StandardCharsets.ISO_8859_1);
                case DIRECTORY -> store.directory(op.domid(), 0, op.path()).toString();
                case GET_PERMS -> store.getPerms(op.domid(), 0, op.path()).toWire();
                case WRITE -> {
                    store.write(op.domid(), 0, op.path(), VALUES[op.value()].getBytes(StandardCharsets.ISO_8859_1));
                    yield "OK";
                }
                case MKDIR -> {
                    store.mkdir(op.domid(), 0, op.path());
                    yield "OK";
                }
                case RM -> {
                    store.rm(op.domid(), 0, op.path());
                    yield "OK";
                }
                case SET_PERMS -> {
                    store.setPerms(op.domid(), 0, op.path(), Perms.parse(op.perms()));
                    yield "OK";
                }
            };
        } catch (StoreException e) {
            return e.error().name();
        }
    }

    @Property(tries = 300)
    void theStoreAnswersAsTheModel(@ForAll("sequences") @Size(max = 60) List<Op> ops) {
        Store store = new Store(QUOTAS);
        Model model = new Model();
        store.introduceDomain(1);
        store.introduceDomain(2);
        Map<Integer, StoreTest.Events> watchers = new HashMap<>();
        String[][] watches = {{"0", "/", "w0"}, {"1", "a", "w1"}, {"2", "/local/domain/1", "w2"}, {"2", "/x", "w2x"}};
        for (String[] w : watches) {
            int domid = Integer.parseInt(w[0]);
            StoreTest.Events events = watchers.computeIfAbsent(domid, StoreTest.Events::new);
            store.watch(events, w[1], w[2]);
            model.watch(domid, w[1], w[2]);
        }
        for (Op op : ops) {
            assertEquals(model.apply(op), run(store, op), op.toString());
            for (int d = 0; d <= 2; d++) {
                assertEquals(model.events.get(d), watchers.get(d).seen(), "domain " + d + "'s events after " + op);
            }
        }
        assertEquals(model.tree.size(), store.size());
        for (Map.Entry<String, MNode> e : model.tree.entrySet()) {
            String p = e.getKey();
            assertEquals(e.getValue().value, new String(store.read(0, 0, p), StandardCharsets.ISO_8859_1), p);
            assertEquals(new Perms(e.getValue().perms), store.getPerms(0, 0, p), p);
            assertEquals(new TreeSet<>(model.children(p)), new TreeSet<>(store.directory(0, 0, p)), p);
        }
        for (int d = 0; d <= 2; d++) {
            assertEquals(model.owned(d), store.owned(d), "nodes owned by " + d);
        }
    }

    @Provide
    Arbitrary<List<Op>> sequences() {
        return ops().list().ofMaxSize(60);
    }
}
