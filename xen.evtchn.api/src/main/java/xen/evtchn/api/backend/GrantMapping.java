package xen.evtchn.api.backend;

import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A granted frame mapped by a host-side backend ({@link GrantTables#map}). The page is the
 * guest's memory itself: what either side writes, the other sees, so a backend treats every byte
 * as untrusted. Closing it unmaps it (xengnttab_unmap) and releases the entry; the page must not
 * be used afterwards.
 *
 * @since 1.3
 */
@ProviderType
public interface GrantMapping extends AutoCloseable {
    int domid();

    int ref();

    boolean writable();

    /**
     * The granted frame, 4096 bytes; read-only unless the mapping is writable.
     *
     * @throws IllegalStateException once the mapping is closed
     */
    MemorySegment page();

    /** Unmaps; a second close does nothing. */
    @Override
    void close();
}
