package xen.evtchn.api.backend;

import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Grant tables for host-side backends, shaped like libxengnttab: a backend maps a frame that a
 * guest granted it, or copies to or from one, by the guest's grant reference. The backend is
 * {@link xen.evtchn.api.abi.DomId#HOST}: a grant is honoured only if its entry permits access
 * ({@code GTF_permit_access}) to domain 0 and, for writing, is not {@code GTF_readonly}; a
 * reference beyond the guest's table, a revoked or forged entry is refused and its frame never
 * read. While a mapping or a copy uses an entry, the entry shows {@code GTF_reading} (and
 * {@code GTF_writing} for write access), as Xen marks it, so that the guest does not end the
 * grant under the backend's feet; unmapping clears them. The host registers it as a service.
 * <p>
 * The statuses are Xen's: {@code GNTST_bad_domain} for no such guest, {@code GNTST_bad_gntref}
 * for a reference outside the table, {@code GNTST_general_error} for an entry that does not grant
 * this access (Xen's answer for wrong flags, domid or a read-only grant mapped for writing),
 * {@code GNTST_bad_page} for a granted frame outside the guest's memory, {@code GNTST_bad_copy_arg}
 * for a copy that leaves the page.
 *
 * @since 1.3
 */
@ProviderType
public interface GrantTables {
    /**
     * Maps the frame that domain {@code domid} granted by {@code ref}, for reading, or reading and
     * writing if {@code writable} (xengnttab_map_grant_ref). The mapping holds the entry until it
     * is closed; mapping the same reference again pins it again.
     *
     * @throws GrantException with the GNTST_* status if the grant does not allow it
     */
    GrantMapping map(int domid, int ref, boolean writable) throws GrantException;

    /**
     * Copies {@code to.byteSize()} bytes from offset {@code offset} of the frame granted by
     * {@code ref} into {@code to} (a grant copy whose source is the grant).
     *
     * @throws GrantException with the GNTST_* status; nothing is copied then
     */
    void copyFrom(int domid, int ref, int offset, MemorySegment to) throws GrantException;

    /**
     * Copies {@code from} into the frame granted by {@code ref} at offset {@code offset} (a grant
     * copy whose destination is the grant, which must be writable).
     *
     * @throws GrantException with the GNTST_* status; nothing is copied then
     */
    void copyTo(int domid, int ref, int offset, MemorySegment from) throws GrantException;
}
