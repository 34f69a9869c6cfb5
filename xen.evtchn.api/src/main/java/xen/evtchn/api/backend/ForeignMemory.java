package xen.evtchn.api.backend;

import java.lang.foreign.MemorySegment;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Guest memory for host-side backends, shaped like libxenforeignmemory's map: a backend reaches a
 * domain's ring page through a view of exactly the frames it asked for, checked against that
 * domain's memory. The view is the guest's memory itself: what either side writes, the other
 * sees, so a backend treats every byte as untrusted and reads indices once. Once the domain is
 * destroyed its memory may be freed; accesses through the view then throw
 * IllegalStateException and never reach other memory. The host registers it as a service.
 *
 * @since 1.2
 */
@ProviderType
public interface ForeignMemory {
    /**
     * {@code count} frames of domain {@code domid} from frame {@code gfn} on, as one segment.
     *
     * @throws IllegalArgumentException if {@code count} is not positive or a frame lies outside the domain's memory
     * @throws IllegalStateException    if there is no guest domain {@code domid}
     */
    MemorySegment map(int domid, long gfn, int count);
}
