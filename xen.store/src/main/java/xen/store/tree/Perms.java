package xen.store.tree;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's permissions as xenstored's {@code xs_permissions} list: the first entry names the owner
 * and its access is the default for every domain not listed after it. The owner and the privileged
 * domain (dom0) always have both read and write.
 */
public record Perms(List<Entry> entries) {
    /** Domain 0, the host: privileged, as xenstored's dom0. */
    public static final int PRIVILEGED = 0;
    /** Domain ids are 16 bits on the wire's permission strings (domid_t). */
    public static final int MAX_DOMID = 0xffff;

    /** One (domain, access) pair. */
    public record Entry(int domid, Access access) {
    }

    public Perms {
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("permissions need an owner");
        }
        entries = List.copyOf(entries);
    }

    /** Owned by {@code owner}, every other domain getting {@code others}. */
    public static Perms of(int owner, Access others) {
        return new Perms(List.of(new Entry(owner, others)));
    }

    public int owner() {
        return entries.get(0).domid();
    }

    /** What {@code domid} may do with a node of these permissions (xenstored's perm_for_conn). */
    public Access accessOf(int domid) {
        if (domid == PRIVILEGED || domid == owner()) {
            return Access.BOTH;
        }
        for (int i = 1; i < entries.size(); i++) {
            if (entries.get(i).domid() == domid) {
                return entries.get(i).access();
            }
        }
        return entries.get(0).access();
    }

    /** The same permissions with another owner, as a node created by an unprivileged domain gets. */
    public Perms ownedBy(int domid) {
        if (domid == owner()) {
            return this;
        }
        List<Entry> copy = new ArrayList<>(entries);
        copy.set(0, new Entry(domid, entries.get(0).access()));
        return new Perms(copy);
    }

    /** The wire form: each entry as letter + decimal domid, each followed by a NUL ("b0\0r1\0"). */
    public String toWire() {
        StringBuilder s = new StringBuilder();
        for (Entry e : entries) {
            s.append(e.access().letter()).append(e.domid()).append('\0');
        }
        return s.toString();
    }

    /** Parses the strings of an XS_SET_PERMS request after its path; EINVAL if any is malformed or none is given. */
    public static Perms parse(List<String> strings) {
        if (strings.isEmpty()) {
            throw new StoreException(XsError.EINVAL);
        }
        List<Entry> entries = new ArrayList<>(strings.size());
        for (String s : strings) {
            if (s.length() < 2 || s.length() > 6) {
                throw new StoreException(XsError.EINVAL);
            }
            Access access = Access.ofLetter(s.charAt(0));
            int domid = 0;
            for (int i = 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c < '0' || c > '9') {
                    throw new StoreException(XsError.EINVAL);
                }
                domid = domid * 10 + (c - '0');
            }
            if (access == null || domid > MAX_DOMID) {
                throw new StoreException(XsError.EINVAL);
            }
            entries.add(new Entry(domid, access));
        }
        return new Perms(entries);
    }
}
