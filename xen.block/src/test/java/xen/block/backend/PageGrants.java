package xen.block.backend;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.backend.GrantTables;

/**
 * Grant tables over heap pages, for the request checks alone: a reference granted to domain 0 is
 * a page here (read-only if so granted); any other is refused, as the host's grant tables refuse a
 * forged one. Counts the copies, so a test can tell that a refused request touched no page.
 */
final class PageGrants implements GrantTables {
    private final int domid;
    private final Map<Integer, byte[]> pages = new HashMap<>();
    private final Set<Integer> readOnly = new HashSet<>();
    int copies;

    PageGrants(int domid) {
        this.domid = domid;
    }

    byte[] grant(int ref, boolean ro) {
        byte[] page = new byte[4096];
        pages.put(ref, page);
        if (ro) {
            readOnly.add(ref);
        }
        return page;
    }

    private byte[] page(int domid, int ref, boolean write, int offset, long length) throws GrantException {
        if (domid != this.domid) {
            throw new GrantException(GrantStatus.BAD_DOMAIN, "no domain " + domid);
        }
        byte[] page = pages.get(ref);
        if (page == null) {
            throw new GrantException(GrantStatus.GENERAL_ERROR, "ref " + ref + " grants nothing");
        }
        if (write && readOnly.contains(ref)) {
            throw new GrantException(GrantStatus.GENERAL_ERROR, "ref " + ref + " is read-only");
        }
        if (offset < 0 || offset + length > 4096) {
            throw new GrantException(GrantStatus.BAD_COPY_ARG, "beyond the page");
        }
        copies++;
        return page;
    }

    @Override
    public GrantMapping map(int domid, int ref, boolean writable) throws GrantException {
        throw new GrantException(GrantStatus.GENERAL_ERROR, "not mapped here");
    }

    @Override
    public void copyFrom(int domid, int ref, int offset, MemorySegment to) throws GrantException {
        byte[] page = page(domid, ref, false, offset, to.byteSize());
        MemorySegment.copy(MemorySegment.ofArray(page), offset, to, 0, to.byteSize());
    }

    @Override
    public void copyTo(int domid, int ref, int offset, MemorySegment from) throws GrantException {
        byte[] page = page(domid, ref, true, offset, from.byteSize());
        MemorySegment.copy(from, 0, MemorySegment.ofArray(page), offset, from.byteSize());
    }
}
