package xen.evtchn.impl.grant;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.function.IntFunction;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.backend.GrantTables;

/**
 * The host's backends' grant table calls (libxengnttab's map, unmap and grant copy), on the
 * grant tables and memories of the guest domains that {@code domains} finds by domid.
 */
public final class HostGrants implements GrantTables {
    /** A guest domain's grant table and memory. */
    public record Guest(GrantTable table, GuestMemory memory) {
        public Guest {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(memory, "memory");
        }
    }

    private final IntFunction<Guest> domains;

    /** {@code domains} answers the guest of a domid, or null if there is none. */
    public HostGrants(IntFunction<Guest> domains) {
        this.domains = Objects.requireNonNull(domains, "domains");
    }

    @Override
    public GrantMapping map(int domid, int ref, boolean writable) throws GrantException {
        Guest g = guest(domid);
        long gfn = checked(g.table().pin(ref, writable, true), domid, ref, writable ? "map for writing" : "map");
        MemorySegment page = g.memory().page(gfn);
        return new HostGrantMapping(domid, ref, writable, writable ? page : page.asReadOnly(), g.table());
    }

    @Override
    public void copyFrom(int domid, int ref, int offset, MemorySegment to) throws GrantException {
        copy(domid, ref, offset, to, false);
    }

    @Override
    public void copyTo(int domid, int ref, int offset, MemorySegment from) throws GrantException {
        copy(domid, ref, offset, from, true);
    }

    /**
     * A grant copy as Xen's gnttab_copy does it: the entry is pinned first (its checks come first),
     * then the range is checked (offset + length within the page: GNTST_bad_copy_arg), copied,
     * and the pin ends.
     */
    private void copy(int domid, int ref, int offset, MemorySegment buffer, boolean toGuest) throws GrantException {
        Objects.requireNonNull(buffer, "buffer");
        Guest g = guest(domid);
        String what = toGuest ? "copy to" : "copy from";
        long gfn = checked(g.table().pin(ref, toGuest, false), domid, ref, what);
        try {
            long length = buffer.byteSize();
            if (offset < 0 || length > GuestMemory.PAGE_SIZE - offset) {
                throw new GrantException(GrantStatus.BAD_COPY_ARG, what + " dom" + domid + " grant " + ref
                        + ": " + length + " bytes at offset " + offset + " leave the page");
            }
            MemorySegment range = g.memory().page(gfn).asSlice(offset, length);
            if (toGuest) {
                range.copyFrom(buffer);
            } else {
                buffer.copyFrom(range);
            }
        } finally {
            g.table().unpin(ref, toGuest);
        }
    }

    private Guest guest(int domid) throws GrantException {
        Guest g = domains.apply(domid);
        if (g == null) {
            throw new GrantException(GrantStatus.BAD_DOMAIN, "no guest domain " + domid);
        }
        return g;
    }

    private static long checked(long gfnOrStatus, int domid, int ref, String what) throws GrantException {
        if (gfnOrStatus < 0) {
            throw new GrantException((int) gfnOrStatus, what + " dom" + domid + " grant " + Integer.toUnsignedString(ref));
        }
        return gfnOrStatus;
    }
}
