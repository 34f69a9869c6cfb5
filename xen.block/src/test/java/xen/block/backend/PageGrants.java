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
 * forged one, and a revoked one is refused from then on. Counts the maps and copies, so a test can
 * tell that a refused request touched no page, and the mappings still open, so it can tell that a
 * request left none behind.
 */
final class PageGrants implements GrantTables {
    private final int domid;
    private final Map<Integer, byte[]> pages = new HashMap<>();
    private final Set<Integer> readOnly = new HashSet<>();
    int uses;
    int open;

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
        uses++;
        return page;
    }

    /** Ends grant {@code ref}: maps and copies of it are refused from now on. */
    void revoke(int ref) {
        pages.remove(ref);
    }

    @Override
    public GrantMapping map(int domid, int ref, boolean writable) throws GrantException {
        MemorySegment page = MemorySegment.ofArray(page(domid, ref, writable, 0, 4096));
        open++;
        return new GrantMapping() {
            private boolean closed;

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
            public MemorySegment page() {
                if (closed) {
                    throw new IllegalStateException("unmapped");
                }
                return writable ? page : page.asReadOnly();
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    open--;
                }
            }
        };
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
