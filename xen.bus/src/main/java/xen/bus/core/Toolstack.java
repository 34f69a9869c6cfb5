package xen.bus.core;

import java.util.List;
import java.util.Map;
import java.util.Set;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.evtchn.api.store.XenStoreNodes;
import xen.evtchn.api.store.XenStoreTransaction;

/**
 * The toolstack's part of a device (libxl__device_generic_add and libxl__device_destroy): where a
 * device's two directories are, writing both in one transaction with libxl's permissions, and
 * removing them. Backends live in the host, so the backend domain is always 0.
 */
final class Toolstack {
    /** The nodes the bus writes itself; a device's own nodes cannot name them. */
    static final Set<String> FRONTEND_NODES = Set.of("backend", "backend-id", "state");
    static final Set<String> BACKEND_NODES = Set.of("frontend", "frontend-id", "online", "state");
    /** A transaction that keeps conflicting with the guests' writes is tried this many times. */
    static final int TRIES = 8;

    private Toolstack() {
    }

    /** {@code /local/domain/0/backend/TYPE/DOMID/DEVID}. */
    static String backendPath(String type, int domid, int devid) {
        return "/local/domain/" + DomId.HOST + "/backend/" + type + "/" + domid + "/" + devid;
    }

    /** {@code /local/domain/DOMID/device/TYPE/DEVID}. */
    static String frontendPath(String type, int domid, int devid) {
        return "/local/domain/" + domid + "/device/" + type + "/" + devid;
    }

    /**
     * Writes both directories of {@code device} in one transaction, each end in state
     * Initialising: the frontend's owned by its domain, dom0 reading ({@code nD r0}), the backend's
     * owned by dom0, the domain reading ({@code n0 rD}), as libxl sets them; every node below
     * inherits its directory's permissions.
     *
     * @throws IllegalArgumentException if either directory exists, or a node of the device's is one the bus writes
     */
    static void add(XenStore store, DeviceNodes device) {
        for (String key : device.frontend().keySet()) {
            if (FRONTEND_NODES.contains(key)) {
                throw new IllegalArgumentException("frontend node " + key + " is written by the bus");
            }
        }
        for (String key : device.backend().keySet()) {
            if (BACKEND_NODES.contains(key)) {
                throw new IllegalArgumentException("backend node " + key + " is written by the bus");
            }
        }
        int domid = device.domid();
        String fe = frontendPath(device.type(), domid, device.devid());
        String be = backendPath(device.type(), domid, device.devid());
        for (int attempt = 1; ; attempt++) {
            try (XenStoreTransaction t = store.transactionStart()) {
                if (exists(t, fe) || exists(t, be)) {
                    throw new IllegalArgumentException("dom" + domid + " has a " + device.type() + " " + device.devid()
                            + " in XenStore already (" + (exists(t, fe) ? fe : be) + ")");
                }
                t.mkdir(fe);
                t.setPermissions(fe, List.of("n" + domid, "r" + DomId.HOST));
                write(t, fe, device.frontend());
                t.write(fe + "/backend", be);
                t.write(fe + "/backend-id", Integer.toString(DomId.HOST));
                t.write(fe + "/state", Integer.toString(XenbusState.INITIALISING));
                t.mkdir(be);
                t.setPermissions(be, List.of("n" + DomId.HOST, "r" + domid));
                write(t, be, device.backend());
                t.write(be + "/frontend", fe);
                t.write(be + "/frontend-id", Integer.toString(domid));
                t.write(be + "/online", "1");
                t.write(be + "/state", Integer.toString(XenbusState.INITIALISING));
                t.commit();
                return;
            } catch (XenStoreException e) {
                if (!e.error().equals("EAGAIN") || attempt == TRIES) {
                    throw e;
                }
            }
        }
    }

    /** Removes a directory and everything below, if it is there. */
    static void remove(XenStore store, String path) {
        try {
            store.rm(path);
        } catch (XenStoreException e) {
            if (!e.error().equals("ENOENT")) {
                throw e;
            }
        }
    }

    /**
     * Removes the backend's directory of a device, and the domain's directory of that type if no
     * device is left in it.
     */
    static void removeBackend(XenStore store, String type, int domid, int devid) {
        remove(store, backendPath(type, domid, devid));
        String parent = "/local/domain/" + DomId.HOST + "/backend/" + type + "/" + domid;
        try {
            if (store.directory(parent).isEmpty()) {
                store.rm(parent);
            }
        } catch (XenStoreException e) {
            // gone already
        }
    }

    /**
     * Writes {@code value} to the node if it holds {@code expected} (its permissions kept), in one
     * transaction; whether it did.
     */
    static boolean replace(XenStore store, String path, String expected, String value) {
        for (int attempt = 1; ; attempt++) {
            try (XenStoreTransaction t = store.transactionStart()) {
                if (!expected.equals(read(t, path))) {
                    return false;
                }
                t.write(path, value);
                t.commit();
                return true;
            } catch (XenStoreException e) {
                if (!e.error().equals("EAGAIN") || attempt == TRIES) {
                    throw e;
                }
            }
        }
    }

    /** Whether the node exists. */
    static boolean exists(XenStoreNodes nodes, String path) {
        try {
            nodes.read(path);
            return true;
        } catch (XenStoreException e) {
            if (e.error().equals("ENOENT")) {
                return false;
            }
            throw e;
        }
    }

    /** A node's text, or null if it does not exist. */
    static String read(XenStoreNodes nodes, String path) {
        try {
            return nodes.readString(path);
        } catch (XenStoreException e) {
            if (e.error().equals("ENOENT")) {
                return null;
            }
            throw e;
        }
    }

    private static void write(XenStoreNodes t, String dir, Map<String, String> nodes) {
        for (Map.Entry<String, String> n : nodes.entrySet()) {
            t.write(dir + "/" + n.getKey(), n.getValue());
        }
    }
}
