package xen.block.backend;

import java.util.Map;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.host.DomainConfiguration;

/**
 * The backend's optional configuration {@value #PID} ({@link BlockMetatype} describes it for
 * tools), read from the map with the api's checks and messages (DomainConfiguration's, which
 * name the PID and the property): an operator's file is untrusted input.
 *
 * @param maxRingPageOrder {@value #MAX_RING_PAGE_ORDER}: the largest ring offered, 2^order pages (0..4, default 4)
 * @param flushCache       {@value #FEATURE_FLUSH_CACHE}: offer flush (default true)
 * @param barrier          {@value #FEATURE_BARRIER}: offer write barriers (default true)
 */
record BlockSettings(int maxRingPageOrder, boolean flushCache, boolean barrier) {
    static final String PID = "xen.block";
    static final String MAX_RING_PAGE_ORDER = "max.ring.page.order";
    static final String FEATURE_FLUSH_CACHE = "feature.flush.cache";
    static final String FEATURE_BARRIER = "feature.barrier";

    static final BlockSettings DEFAULT = new BlockSettings(Blkif.MAX_RING_PAGE_ORDER, true, true);

    /** @throws IllegalArgumentException naming the property that is malformed or out of range */
    static BlockSettings read(Map<String, ?> configuration) {
        DomainConfiguration c = new DomainConfiguration(PID, configuration);
        return new BlockSettings(c.integer(MAX_RING_PAGE_ORDER, Blkif.MAX_RING_PAGE_ORDER, 0, Blkif.MAX_RING_PAGE_ORDER),
                c.bool(FEATURE_FLUSH_CACHE, true), c.bool(FEATURE_BARRIER, true));
    }
}
