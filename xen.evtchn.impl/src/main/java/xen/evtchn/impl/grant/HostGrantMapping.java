package xen.evtchn.impl.grant;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.backend.GrantMapping;

/** One map of a granted frame by a host backend; closing it ends its pin once. */
final class HostGrantMapping implements GrantMapping {
    private final int domid;
    private final int ref;
    private final boolean writable;
    private final MemorySegment page;
    private final GrantTable table;
    private boolean closed;

    HostGrantMapping(int domid, int ref, boolean writable, MemorySegment page, GrantTable table) {
        this.domid = domid;
        this.ref = ref;
        this.writable = writable;
        this.page = page;
        this.table = table;
    }

    @Override
    public int domid() {
        return domid;
    }

    @Override
    public int ref() {
        return ref;
    }

    @Override
    public boolean writable() {
        return writable;
    }

    @Override
    public synchronized MemorySegment page() {
        if (closed) {
            throw new IllegalStateException("grant " + Integer.toUnsignedString(ref) + " of dom" + domid + " is unmapped");
        }
        return page;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            table.unpin(ref, writable);
        } catch (IllegalStateException e) {
            // the destroyed domain's memory is closed: there is no entry left to release
        }
    }

    @Override
    public String toString() {
        return "grant " + Integer.toUnsignedString(ref) + " of dom" + domid + (writable ? " (rw)" : " (ro)");
    }
}
