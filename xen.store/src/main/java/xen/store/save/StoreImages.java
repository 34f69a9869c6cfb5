package xen.store.save;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import xen.evtchn.api.host.PartReader;
import xen.evtchn.api.host.PartWriter;
import xen.evtchn.api.host.SaveStreamException;
import xen.store.tree.Access;
import xen.store.tree.Perms;
import xen.store.tree.Quotas;
import xen.store.tree.Store;
import xen.store.tree.StoreException;
import xen.store.tree.StorePath;
import xen.store.wire.Connection;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * A {@link StoreImage} as bytes and back: the store's part of a domain's save stream, and what
 * the store parks in the host while its bundle is updated. docs/SAVE-RESTORE.md describes the
 * fields. Reading checks everything a restore relies on (the bytes are untrusted: they come from
 * a stream) and moves the state from the domid it was saved as to the one it is restored as.
 */
public final class StoreImages {
    /** The name of the store's part of a domain's save stream. */
    public static final String PART = "xen.store";
    /** The format written and read. */
    static final int FORMAT = 1;
    /** The backend directories dom0 keeps for a domain: /local/domain/0/backend/TYPE/DOMID. */
    private static final String BACKENDS = "/local/domain/0/backend";
    private static final int CONNECTION = 1;
    private static final int BROKEN = 2;

    private StoreImages() {
    }

    /** The paths of {@code domid}'s part below the backend directory, /local/domain/0/backend/T/domid, given the types T. */
    public static List<String> backendRoots(List<String> types, int domid) {
        List<String> roots = new ArrayList<>();
        for (String type : types) {
            roots.add(BACKENDS + "/" + type + "/" + domid);
        }
        return roots;
    }

    /** The directory the backend types are listed in. */
    public static String backends() {
        return BACKENDS;
    }

    public static byte[] write(StoreImage image) {
        PartWriter w = new PartWriter();
        w.u8(FORMAT);
        w.varint(image.nodes().size());
        for (Store.NodeState n : image.nodes()) {
            w.blob(n.path().getBytes(StandardCharsets.ISO_8859_1));
            w.blob(n.value());
            w.varint(n.perms().entries().size());
            for (Perms.Entry e : n.perms().entries()) {
                w.u8(e.access().letter());
                w.varint(e.domid());
            }
        }
        w.varint(image.watches().size());
        for (Store.WatchState watch : image.watches()) {
            w.blob(watch.path().getBytes(StandardCharsets.ISO_8859_1));
            w.blob(watch.token().getBytes(StandardCharsets.ISO_8859_1));
        }
        w.varint(image.transactions().size());
        for (int id : image.transactions()) {
            w.varint(Integer.toUnsignedLong(id));
        }
        Connection.State c = image.connection();
        w.u8(c == null ? 0 : CONNECTION | (c.broken() ? BROKEN : 0));
        if (c != null) {
            w.varint(c.droppedEvents());
            w.blob(c.input());
            w.varint(c.output().size());
            for (byte[] message : c.output()) {
                w.blob(message);
            }
            w.varint(c.outPos());
        }
        return w.toArray();
    }

    /**
     * The image in {@code bytes}, saved for domain {@code savedDomid} (0: the host's own nodes),
     * checked against {@code quotas} and moved to {@code domid}.
     *
     * @throws xen.evtchn.api.host.SaveStreamException saying what is wrong and where
     */
    public static StoreImage read(byte[] bytes, int savedDomid, int domid, Quotas quotas) {
        PartReader r = new PartReader(bytes, PART);
        int at = r.position();
        int format = r.u8("format");
        if (format != FORMAT) {
            throw r.refused(at, "format " + format + "; this store reads format " + FORMAT);
        }
        boolean guest = savedDomid != Perms.PRIVILEGED;
        List<Store.NodeState> nodes = readNodes(r, savedDomid, guest, quotas);
        List<Store.WatchState> watches = new ArrayList<>();
        int count = r.varint32("watch count", guest ? quotas.watches() : 0);
        Set<Store.WatchState> seen = new HashSet<>();
        for (int i = 0; i < count; i++) {
            at = r.position();
            String path = text(r.blob("watch path", StorePath.ABS_PATH_MAX));
            String token = text(r.blob("watch token", WireMessage.PAYLOAD_MAX));
            try {
                StorePath.canonical(savedDomid, path, true);
            } catch (StoreException e) {
                throw r.refused(at, "watch path \"" + path + "\" is not one xenstored accepts");
            }
            if (token.indexOf('\0') >= 0 || path.length() + token.length() + 2 > WireMessage.PAYLOAD_MAX) {
                throw r.refused(at, "watch token with a NUL, or too long for a WATCH request");
            }
            Store.WatchState watch = new Store.WatchState(path, token);
            if (!seen.add(watch)) {
                throw r.refused(at, "watch \"" + path + "\" \"" + token + "\" is there twice");
            }
            watches.add(watch);
        }
        List<Integer> transactions = new ArrayList<>();
        count = r.varint32("transaction count", guest ? quotas.transactions() : 0);
        for (int i = 0; i < count; i++) {
            at = r.position();
            int id = (int) r.varint("transaction id", 0xFFFF_FFFFL);
            if (id == 0 || (i > 0 && Integer.compareUnsigned(id, transactions.getLast()) <= 0)) {
                throw r.refused(at, "transaction id " + Integer.toUnsignedString(id) + " is 0, out of order or repeated");
            }
            transactions.add(id);
        }
        Connection.State connection = readConnection(r, guest, quotas);
        if (!r.atEnd()) {
            throw r.refused(r.position(), "bytes after the connection");
        }
        StoreImage image = new StoreImage(nodes, watches, transactions, connection);
        return guest && savedDomid != domid ? moved(image, savedDomid, domid) : image;
    }

    private static List<Store.NodeState> readNodes(PartReader r, int savedDomid, boolean guest, Quotas quotas) {
        int count = r.varint32("node count", Integer.MAX_VALUE);
        List<Store.NodeState> nodes = new ArrayList<>();
        Set<String> paths = new HashSet<>();
        String home = StorePath.home(savedDomid);
        int owned = 0;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            String path = text(r.blob("node path", StorePath.ABS_PATH_MAX));
            if (!StorePath.valid(path)) {
                throw r.refused(at, "node path \"" + path + "\" is not one xenstored accepts");
            }
            if (guest && i == 0 && !path.equals(home)) {
                throw r.refused(at, "the first node is \"" + path + "\", not the domain's home " + home);
            }
            if (guest && !inScope(path, savedDomid)) {
                throw r.refused(at, "node \"" + path + "\" is neither below " + home + " nor a backend directory of dom"
                        + savedDomid);
            }
            boolean root = path.equals(StorePath.ROOT) || (guest && (i == 0 || isBackendRoot(path, savedDomid)));
            if (!root && !paths.contains(StorePath.parent(path))) {
                throw r.refused(at, "node \"" + path + "\" comes before its parent");
            }
            if (!paths.add(path)) {
                throw r.refused(at, "node \"" + path + "\" is there twice");
            }
            byte[] value = r.blob("node " + path + "'s value", WireMessage.PAYLOAD_MAX);
            Perms perms = readPerms(r, path);
            if (guest && perms.owner() == savedDomid && ++owned > quotas.nodes()) {
                throw r.refused(at, "dom" + savedDomid + " owns more nodes than its quota (" + quotas.nodes() + ")");
            }
            nodes.add(new Store.NodeState(path, value, perms));
        }
        return nodes;
    }

    private static Perms readPerms(PartReader r, String path) {
        int at = r.position();
        int count = r.varint32("node " + path + "'s permission count", WireMessage.PAYLOAD_MAX / 3);
        if (count == 0) {
            throw r.refused(at, "node " + path + " has no permissions (they name its owner)");
        }
        List<Perms.Entry> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            at = r.position();
            Access access = Access.ofLetter((char) r.u8("permission letter"));
            int domid = r.varint32("permission's domid", Perms.MAX_DOMID);
            if (access == null) {
                throw r.refused(at, "node " + path + ": a permission letter is n, r, w or b");
            }
            entries.add(new Perms.Entry(domid, access));
        }
        Perms perms = new Perms(entries);
        if (perms.toWire().length() > WireMessage.PAYLOAD_MAX) {
            throw r.refused(at, "node " + path + "'s permissions do not fit a SET_PERMS request");
        }
        return perms;
    }

    private static Connection.State readConnection(PartReader r, boolean guest, Quotas quotas) {
        int at = r.position();
        int flags = r.u8("connection flags");
        if (flags == 0) {
            return null;
        }
        if (!guest || (flags & ~(CONNECTION | BROKEN)) != 0 || (flags & CONNECTION) == 0) {
            throw r.refused(at, "connection flags 0x" + Integer.toHexString(flags) + (guest ? " has reserved bits" : " for the host's nodes"));
        }
        long dropped = r.varint("dropped events", Long.MAX_VALUE);
        at = r.position();
        byte[] input = r.blob("partial request", WireMessage.HEADER + WireMessage.PAYLOAD_MAX - 1);
        if (input.length >= WireMessage.HEADER) {
            long length = Integer.toUnsignedLong(littleEndian(input, 12));
            if (length > WireMessage.PAYLOAD_MAX || input.length >= WireMessage.HEADER + length) {
                throw r.refused(at, "the partial request is a whole one, or announces more than " + WireMessage.PAYLOAD_MAX + " bytes");
            }
        }
        int count = r.varint32("waiting message count", quotas.eventQueue() + 1);
        List<byte[]> output = new ArrayList<>(count);
        int replies = 0;
        int events = 0;
        for (int i = 0; i < count; i++) {
            at = r.position();
            byte[] message = r.blob("waiting message", WireMessage.HEADER + WireMessage.PAYLOAD_MAX);
            if (WireMessage.decode(message) == null) {
                throw r.refused(at, "a waiting message is not a whole message");
            }
            if (Connection.typeOf(message) == XsType.WATCH_EVENT ? ++events > quotas.eventQueue() : ++replies > 1) {
                throw r.refused(at, "more waiting replies (1) or events (" + quotas.eventQueue() + ") than a connection holds");
            }
            output.add(message);
        }
        at = r.position();
        int outPos = r.varint32("bytes of the first message given", WireMessage.HEADER + WireMessage.PAYLOAD_MAX);
        if (output.isEmpty() ? outPos != 0 : outPos >= output.getFirst().length) {
            throw r.refused(at, "bytes of the first message given (" + outPos + ") are not within it");
        }
        boolean broken = (flags & BROKEN) != 0;
        if (broken && (input.length > 0 || !output.isEmpty())) {
            throw r.refused(at, "a broken connection has bytes in flight");
        }
        return new Connection.State(input, output, outPos, broken, dropped);
    }

    /** Whether {@code path} is in a domain's part: its home, or a backend directory dom0 keeps for it. */
    private static boolean inScope(String path, int domid) {
        if (StorePath.isAtOrBelow(path, StorePath.home(domid))) {
            return true;
        }
        if (!StorePath.isAtOrBelow(path, BACKENDS) || path.equals(BACKENDS)) {
            return false;
        }
        String[] parts = path.substring(BACKENDS.length() + 1).split("/");
        return parts.length >= 2 && parts[1].equals(Integer.toString(domid));
    }

    private static boolean isBackendRoot(String path, int domid) {
        return StorePath.isAtOrBelow(path, BACKENDS) && !path.equals(BACKENDS)
                && path.substring(BACKENDS.length() + 1).split("/").length == 2 && inScope(path, domid);
    }

    /**
     * The image of a domain saved as {@code from}, for domain {@code to}: its nodes' paths, the
     * permissions naming it, absolute watches on its part, and the toolstack's {@code domid} node
     * moved. Other values (a frontend's {@code backend} path, {@code name}) are kept as they were.
     */
    private static StoreImage moved(StoreImage image, int from, int to) {
        String newHome = StorePath.home(to);
        List<Store.NodeState> nodes = new ArrayList<>();
        for (Store.NodeState n : image.nodes()) {
            String path = movePath(n.path(), from, to);
            if (!StorePath.valid(path)) {
                throw new SaveStreamException("save stream, xen.store part: node " + n.path() + " restored as dom" + to
                        + " would be " + path + ", longer than xenstored's paths");
            }
            List<Perms.Entry> entries = new ArrayList<>();
            for (Perms.Entry e : n.perms().entries()) {
                entries.add(e.domid() == from ? new Perms.Entry(to, e.access()) : e);
            }
            // The toolstack's "domid" node names the domain: it is the new one's now.
            byte[] value = path.equals(newHome + "/domid") ? Integer.toString(to).getBytes(StandardCharsets.US_ASCII) : n.value();
            nodes.add(new Store.NodeState(path, value, new Perms(entries)));
        }
        List<Store.WatchState> watches = new ArrayList<>();
        for (Store.WatchState w : image.watches()) {
            boolean absolute = w.path().startsWith("/");
            Store.WatchState watch = absolute && inScope(w.path(), from)
                    ? new Store.WatchState(movePath(w.path(), from, to), w.token()) : w;
            try {
                StorePath.canonical(to, watch.path(), true);
            } catch (StoreException e) {
                throw new SaveStreamException("save stream, xen.store part: watch " + w.path() + " restored as dom" + to
                        + " would be longer than xenstored's paths");
            }
            watches.add(watch);
        }
        return new StoreImage(nodes, watches, image.transactions(), image.connection());
    }

    private static String movePath(String path, int from, int to) {
        String oldHome = StorePath.home(from);
        if (StorePath.isAtOrBelow(path, oldHome)) {
            return StorePath.home(to) + path.substring(oldHome.length());
        }
        // /local/domain/0/backend/T/from[/...]
        int typeEnd = path.indexOf('/', BACKENDS.length() + 1);
        int idEnd = path.indexOf('/', typeEnd + 1);
        return path.substring(0, typeEnd + 1) + to + (idEnd < 0 ? "" : path.substring(idEnd));
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static int littleEndian(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }
}
