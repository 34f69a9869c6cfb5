package xen.bus.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.store.XenStoreWatch;

/**
 * One device on the bus and where its state machine is: the backend's state as the bus last wrote
 * it (the backend directory is dom0's, so the bus's own record is the truth), the frontend's state
 * as last seen, the backend serving it and whether a connection is up (served, or parked between
 * two backends). Every field but {@link #examineQueued}, {@link #servedNow} and {@link #adopting} is the bus thread's only.
 */
final class Device {
    final int domid;
    final String type;
    final int devid;
    final String backendPath;
    final String frontendPath;
    /** The name of the device's event channel handle: {@code xenbus-TYPE-DOMID-DEVID}. */
    final String handleName;
    /** Set while an examination is queued, so a device has at most one in the bus's queue. */
    final AtomicBoolean examineQueued = new AtomicBoolean();

    /** The backend's state, as the bus wrote it. */
    int backendState = XenbusState.INITIALISING;
    /** The frontend's state at the last examination ({@link NodeValues#NO_STATE} if missing or malformed). */
    int seenFrontend = XenbusState.INITIALISING;
    /** The backend that probed the device, and its device; null if none serves it now. */
    XenBusBackend servedBy;
    DeviceBackend served;
    DeviceLink link;
    /** Whether a backend serves the device now, for {@link BusComponent#devices()} on other threads. */
    volatile boolean servedNow;
    /** A connect succeeded and no disconnect came since: served, or handed over and parked. */
    boolean connected;
    XenStoreWatch frontendWatch;
    XenStoreWatch backendWatch;
    /** Completed with true once the frontend closed and the directories went, while a removal waits. */
    CompletableFuture<Boolean> removal;
    /**
     * Restored with its domain and waiting for its nodes (the store writes them when it hears of
     * the domain): adopted at the first examination that finds its backend directory.
     */
    volatile boolean adopting;
    /** While {@link #adopting}: the domid it was saved as, and whether it was connected then. */
    int savedDomid;
    boolean connectedAtSave;

    Device(int domid, String type, int devid) {
        this.domid = domid;
        this.type = type;
        this.devid = devid;
        this.backendPath = Toolstack.backendPath(type, domid, devid);
        this.frontendPath = Toolstack.frontendPath(type, domid, devid);
        this.handleName = handleName(type, domid, devid);
    }

    /** No backend serves the device any more (its link retired by the caller); {@link #connected} stays as it is. */
    void unserve() {
        served = null;
        servedBy = null;
        link = null;
        servedNow = false;
    }

    /** The name of the event channel handle of device {@code type}/{@code devid} of {@code domid}. */
    static String handleName(String type, int domid, int devid) {
        return "xenbus-" + type + "-" + domid + "-" + devid;
    }

    /** The key of the bus's table. */
    static String key(int domid, String type, int devid) {
        return domid + "/" + type + "/" + devid;
    }

    String key() {
        return key(domid, type, devid);
    }

    @Override
    public String toString() {
        return "dom" + domid + " " + type + " " + devid;
    }
}
