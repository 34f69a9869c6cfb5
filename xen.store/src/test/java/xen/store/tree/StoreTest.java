package xen.store.tree;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The tree's operations with xenstored's answers: paths, permissions, transactions, watches, quotas. */
class StoreTest {
    static final int DOM0 = 0;
    static final int A = 1;
    static final int B = 2;

    final Store store = new Store(Quotas.DEFAULTS);

    StoreTest() {
        store.introduceDomain(A);
        store.introduceDomain(B);
    }

    /** A watcher that keeps its events as "path token". */
    record Events(int domid, List<String> seen) implements Watcher {
        Events(int domid) {
            this(domid, new ArrayList<>());
        }

        @Override
        public void event(String path, String token) {
            seen.add(path + " " + token);
        }
    }

    static byte[] b(String s) {
        return s.getBytes(US_ASCII);
    }

    static void fails(XsError error, Executable op) {
        assertEquals(error, assertThrows(StoreException.class, op).error());
    }

    static void fails(XsError error, Executable op, String why) {
        assertEquals(error, assertThrows(StoreException.class, op).error(), why);
    }

    @Test
    void writeCreatesMissingParentsAndReadsBack() {
        store.write(A, 0, "data/x/y", b("v"));
        assertArrayEquals(b("v"), store.read(A, 0, "/local/domain/1/data/x/y"));
        assertArrayEquals(new byte[0], store.read(A, 0, "data/x"));
        assertEquals(List.of("x"), store.directory(A, 0, "data"));
        assertEquals(A, store.getPerms(A, 0, "data/x").owner(), "created by A, owned by A");
    }

    @Test
    void badPathsAreEinval() {
        fails(XsError.EINVAL, () -> store.read(A, 0, ""));
        fails(XsError.EINVAL, () -> store.read(A, 0, "/local//domain"));
        fails(XsError.EINVAL, () -> store.read(A, 0, "/local/"));
        fails(XsError.EINVAL, () -> store.read(A, 0, "data x"));
        fails(XsError.EINVAL, () -> store.read(A, 0, "@introduceDomain"));
        fails(XsError.EINVAL, () -> store.write(A, 0, "a".repeat(StorePath.REL_PATH_MAX + 1), b("")));
        fails(XsError.EINVAL, () -> store.write(DOM0, 0, "/" + "a".repeat(StorePath.ABS_PATH_MAX), b("")));
        store.write(A, 0, "a".repeat(StorePath.REL_PATH_MAX), b("longest relative path"));
        fails(XsError.EINVAL, () -> store.rm(DOM0, 0, "/"));
    }

    @Test
    void anotherDomainCanNeitherReadNorWriteNorListUnlessPermitted() {
        store.write(A, 0, "secret", b("s"));
        String path = "/local/domain/1/secret";
        fails(XsError.EACCES, () -> store.read(B, 0, path));
        fails(XsError.EACCES, () -> store.write(B, 0, path, b("x")));
        fails(XsError.EACCES, () -> store.directory(B, 0, "/local/domain/1"));
        fails(XsError.EACCES, () -> store.getPerms(B, 0, path));
        fails(XsError.EACCES, () -> store.rm(B, 0, path));
        fails(XsError.EACCES, () -> store.write(B, 0, "/local/domain/1/new", b("x")));
        // Nor may it learn what does not exist there.
        fails(XsError.EACCES, () -> store.read(B, 0, "/local/domain/1/nothing"));
        fails(XsError.ENOENT, () -> store.read(A, 0, "nothing"));
        // dom0 may do anything.
        assertArrayEquals(b("s"), store.read(DOM0, 0, path));
        store.write(DOM0, 0, path, b("t"));
        assertArrayEquals(b("t"), store.read(A, 0, "secret"));
    }

    @Test
    void permissionsGrantReadOrWriteToListedDomains() {
        store.write(A, 0, "shared", b("s"));
        store.setPerms(A, 0, "shared", new Perms(List.of(new Perms.Entry(A, Access.NONE), new Perms.Entry(B, Access.READ))));
        assertArrayEquals(b("s"), store.read(B, 0, "/local/domain/1/shared"));
        fails(XsError.EACCES, () -> store.write(B, 0, "/local/domain/1/shared", b("x")));
        store.setPerms(A, 0, "shared", Perms.of(A, Access.WRITE));
        store.write(B, 0, "/local/domain/1/shared", b("w"));
        fails(XsError.EACCES, () -> store.read(B, 0, "/local/domain/1/shared"));
        assertEquals("w1\0", store.getPerms(A, 0, "shared").toWire());
    }

    @Test
    void onlyTheOwnerSetsPermissionsAndOnlyDom0GivesNodesAway() {
        store.write(A, 0, "mine", b(""));
        store.setPerms(A, 0, "mine", Perms.of(A, Access.BOTH));
        fails(XsError.EACCES, () -> store.setPerms(B, 0, "/local/domain/1/mine", Perms.of(B, Access.BOTH)));
        fails(XsError.EPERM, () -> store.setPerms(A, 0, "mine", Perms.of(B, Access.NONE)));
        store.setPerms(DOM0, 0, "/local/domain/1/mine", Perms.of(B, Access.NONE));
        assertEquals(B, store.getPerms(DOM0, 0, "/local/domain/1/mine").owner());
        assertEquals(2, store.owned(B), "B's home and the node given to it");
    }

    @Test
    void newNodesInheritTheParentsPermissions() {
        store.mkdir(DOM0, 0, "/local/domain/1/device");
        store.setPerms(DOM0, 0, "/local/domain/1/device",
                new Perms(List.of(new Perms.Entry(A, Access.NONE), new Perms.Entry(B, Access.READ))));
        store.write(DOM0, 0, "/local/domain/1/device/vbd/0", b("x"));
        assertEquals("n1\0r2\0", store.getPerms(A, 0, "device/vbd/0").toWire(), "dom0's nodes inherit as they are");
        store.write(A, 0, "device/mine", b("y"));
        assertEquals("n1\0r2\0", store.getPerms(A, 0, "device/mine").toWire());
        assertArrayEquals(b("y"), store.read(B, 0, "/local/domain/1/device/mine"));
    }

    @Test
    void mkdirAndRm() {
        store.mkdir(A, 0, "d/e");
        store.mkdir(A, 0, "d/e");
        store.write(A, 0, "d/e/f", b("1"));
        int owned = store.owned(A);
        store.rm(A, 0, "d");
        assertEquals(owned - 3, store.owned(A), "d, e and f went");
        fails(XsError.ENOENT, () -> store.read(A, 0, "d/e/f"));
        store.rm(A, 0, "d");
        fails(XsError.ENOENT, () -> store.rm(A, 0, "d/e"));
        assertEquals(List.of(), store.directory(A, 0, "/local/domain/1"));
    }

    @Test
    void transactionsSeeTheirOwnViewAndCommit() {
        store.write(A, 0, "x", b("old"));
        int tx = store.startTransaction(A);
        store.write(A, tx, "x", b("new"));
        store.write(A, tx, "y/z", b("z"));
        assertArrayEquals(b("new"), store.read(A, tx, "x"));
        assertArrayEquals(b("old"), store.read(A, 0, "x"));
        fails(XsError.ENOENT, () -> store.read(A, 0, "y/z"));
        store.endTransaction(A, tx, true);
        assertArrayEquals(b("new"), store.read(A, 0, "x"));
        assertArrayEquals(b("z"), store.read(A, 0, "y/z"));
        fails(XsError.ENOENT, () -> store.endTransaction(A, tx, true));
    }

    @Test
    void aConflictingCommitIsEagainAndChangesNothing() {
        store.write(A, 0, "x", b("0"));
        int tx = store.startTransaction(A);
        assertArrayEquals(b("0"), store.read(A, tx, "x"));
        store.write(A, tx, "y", b("from tx"));
        store.write(A, 0, "x", b("1"));
        fails(XsError.EAGAIN, () -> store.endTransaction(A, tx, true));
        fails(XsError.ENOENT, () -> store.read(A, 0, "y"));
        assertEquals(0, store.transactionCount());
    }

    @Test
    void aTransactionUntouchedByOthersCommitsAndAnAbortDropsIt() {
        store.write(A, 0, "x", b("0"));
        int t1 = store.startTransaction(A);
        store.write(A, t1, "x", b("t1"));
        store.write(B, 0, "other", b("b"));
        store.endTransaction(A, t1, true);
        int t2 = store.startTransaction(A);
        store.rm(A, t2, "x");
        store.endTransaction(A, t2, false);
        assertArrayEquals(b("t1"), store.read(A, 0, "x"));
    }

    @Test
    void transactionsBelongToTheirDomain() {
        int tx = store.startTransaction(A);
        fails(XsError.ENOENT, () -> store.read(B, tx, "/local/domain/1"));
        fails(XsError.ENOENT, () -> store.endTransaction(B, tx, false));
        fails(XsError.ENOENT, () -> store.read(A, tx + 1, "x"));
    }

    @Test
    void watchesFireAtRegistrationAndOnChangesBelowButNotForSiblings() {
        Events a = new Events(A);
        store.watch(a, "device", "tok");
        assertEquals(List.of("device tok"), a.seen, "once at registration");
        store.write(A, 0, "device/vbd/0/state", b("1"));
        store.write(A, 0, "devices", b("sibling"));
        store.write(A, 0, "other", b("x"));
        assertEquals(List.of("device tok", "device/vbd/0/state tok"), a.seen);
        store.rm(A, 0, "device");
        assertEquals("device tok", a.seen.get(2));
        store.unwatch(a, "device", "tok");
        store.write(A, 0, "device", b(""));
        assertEquals(3, a.seen.size());
        fails(XsError.ENOENT, () -> store.unwatch(a, "device", "tok"));
    }

    @Test
    void removingATreeFiresTheWatchesBelowIt() {
        store.write(A, 0, "a/b/c", b("1"));
        Events a = new Events(A);
        store.watch(a, "/local/domain/1/a/b/c", "deep");
        a.seen.clear();
        store.rm(A, 0, "a");
        assertEquals(List.of("/local/domain/1/a/b/c deep"), a.seen);
    }

    @Test
    void watchesDoNotReportWhatTheirDomainMayNotRead() {
        Events b = new Events(B);
        store.watch(b, "/local/domain/1", "spy");
        b.seen.clear();
        store.write(A, 0, "secret", b("s"));
        assertEquals(List.of(), b.seen);
        store.write(A, 0, "open", b("o"));
        store.setPerms(A, 0, "open", Perms.of(A, Access.READ));
        assertEquals(List.of("/local/domain/1/open spy"), b.seen);
    }

    @Test
    void transactionChangesFireOnCommitOnly() {
        Events a = new Events(A);
        fails(XsError.EINVAL, () -> store.watch(a, "", "home"), "relative \"\" is /local/domain/1/, a bad path");
        fails(XsError.EINVAL, () -> store.watch(a, "x/", "bad"));
        store.watch(a, "/local/domain/1", "home");
        a.seen.clear();
        int tx = store.startTransaction(A);
        store.write(A, tx, "x", b("1"));
        assertEquals(List.of(), a.seen);
        store.endTransaction(A, tx, true);
        assertEquals(List.of("/local/domain/1/x home"), a.seen);
    }

    @Test
    void specialWatchesFireWhenDomainsComeAndGo() {
        Events dom0 = new Events(DOM0);
        store.watch(dom0, StorePath.INTRODUCE_DOMAIN, "i");
        store.watch(dom0, StorePath.RELEASE_DOMAIN, "r");
        fails(XsError.EEXIST, () -> store.watch(dom0, StorePath.RELEASE_DOMAIN, "r"));
        dom0.seen.clear();
        store.introduceDomain(3);
        store.releaseDomain(3);
        assertEquals(List.of("@introduceDomain i", "@releaseDomain r"), dom0.seen);
    }

    @Test
    void quotasBoundNodesValuesWatchesAndTransactions() {
        Store small = new Store(new Quotas(5, 8, 2, 1, 4, 2, 16));
        small.introduceDomain(A);
        small.write(A, 0, "v", b("12345678"));
        fails(XsError.ENOSPC, () -> small.write(A, 0, "v", b("123456789")));
        fails(XsError.EACCES, () -> small.write(B, 0, "/local/domain/1/v", b("123456789")), "permissions before size");
        fails(XsError.EACCES, () -> small.write(B, 0, "/local/domain/1/new", b("123456789")), "permissions before size");
        small.write(DOM0, 0, "/local/domain/1/v", b("dom0 is not limited"));
        small.write(A, 0, "a/b", b(""));
        fails(XsError.ENOSPC, () -> small.write(A, 0, "c/d", b("")));
        assertEquals(4, small.owned(A), "nothing of c/d was made");
        small.write(A, 0, "c", b(""));
        fails(XsError.ENOSPC, () -> small.mkdir(A, 0, "e"));
        Events w = new Events(A);
        small.watch(w, "a", "1");
        small.watch(w, "a", "2");
        fails(XsError.E2BIG, () -> small.watch(w, "a", "3"));
        int tx = small.startTransaction(A);
        fails(XsError.ENOSPC, () -> small.startTransaction(A));
        small.read(A, tx, "a");
        small.read(A, tx, "a/b");
        fails(XsError.ENOSPC, () -> {
            for (int i = 0; i < 10; i++) {
                try {
                    small.read(A, tx, "none" + i);
                } catch (StoreException e) {
                    if (e.error() != XsError.ENOENT) {
                        throw e;
                    }
                }
            }
        });
        Perms three = Perms.parse(List.of("n1", "r2", "r3"));
        fails(XsError.ENOSPC, () -> small.setPerms(A, 0, "c", three));
        small.setPerms(DOM0, 0, "/local/domain/1/c", three);
        assertTrue(small.getPerms(A, 0, "c").entries().size() == 3);
    }
}
