package xen.store.backend;

import java.nio.charset.StandardCharsets;
import java.util.List;
import xen.store.tree.Access;
import xen.store.tree.Perms;
import xen.store.tree.Store;
import xen.store.tree.StorePath;

/**
 * A domain's part of the tree as Xen's toolstack (libxl) writes it when it creates the domain, kept
 * to what a Linux guest reads (linux-pvh-guest.md §6.2). Under /local/domain/&lt;domid&gt;, owned by
 * the domain (dom0 reads and writes everything anyway):
 * <ul>
 * <li>{@code name} = "dom&lt;domid&gt;", {@code domid}, {@code memory/target} and
 * {@code memory/static-max} = its RAM in KiB (both, and equal, so that the guest's balloon driver
 * keeps all its memory), {@code cpu/<n>/availability} = "online" for each vCPU: read-only to the
 * domain (owned by dom0, the domain reading), as libxl's "roperm";</li>
 * <li>{@code control/shutdown} (empty; the toolstack writes "poweroff" or "reboot" there and the
 * guest watches it), and the directories {@code control}, {@code device} (no frontends yet) and
 * {@code data}: the domain's own, as libxl's "rwperm".</li>
 * </ul>
 */
final class InitialTree {
    private InitialTree() {
    }

    /** Writes {@code domid}'s nodes as dom0 and introduces the domain (its home, @introduceDomain). */
    static void write(Store store, int domid, int vcpus, long ramBytes) {
        String home = StorePath.home(domid);
        Perms readOnly = new Perms(List.of(new Perms.Entry(Perms.PRIVILEGED, Access.NONE), new Perms.Entry(domid, Access.READ)));
        Perms own = Perms.of(domid, Access.NONE);
        store.mkdir(Perms.PRIVILEGED, 0, home);
        store.setPerms(Perms.PRIVILEGED, 0, home, own);
        value(store, home + "/name", "dom" + domid, readOnly);
        value(store, home + "/domid", Integer.toString(domid), readOnly);
        if (ramBytes > 0) {
            String kib = Long.toString(ramBytes >> 10);
            value(store, home + "/memory", null, readOnly);
            value(store, home + "/memory/static-max", kib, readOnly);
            value(store, home + "/memory/target", kib, readOnly);
        }
        value(store, home + "/cpu", null, readOnly);
        for (int n = 0; n < vcpus; n++) {
            value(store, home + "/cpu/" + n, null, readOnly);
            value(store, home + "/cpu/" + n + "/availability", "online", readOnly);
        }
        value(store, home + "/control", null, own);
        value(store, home + "/control/shutdown", "", own);
        value(store, home + "/device", null, own);
        value(store, home + "/data", null, own);
        store.introduceDomain(domid);
    }

    /** The domain's nodes go and @releaseDomain fires, as the toolstack releases and removes it. */
    static void remove(Store store, int domid) {
        store.releaseDomain(domid);
        store.rm(Perms.PRIVILEGED, 0, StorePath.home(domid));
    }

    /** A node with {@code perms}: a directory if {@code value} is null. */
    private static void value(Store store, String path, String value, Perms perms) {
        if (value == null) {
            store.mkdir(Perms.PRIVILEGED, 0, path);
        } else {
            store.write(Perms.PRIVILEGED, 0, path, value.getBytes(StandardCharsets.US_ASCII));
        }
        store.setPerms(Perms.PRIVILEGED, 0, path, perms);
    }
}
