package xen.block.backend;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metatype of {@value BlockSettings#PID} (read by {@link BlockSettings}). */
@ObjectClassDefinition(name = "PV block backend", description = "What the vbd backend offers its frontends.")
@interface BlockMetatype {
    @AttributeDefinition(description = "The largest ring offered, as max-ring-page-order: 2^order pages, 0..4.", min = "0", max = "4")
    int max_ring_page_order() default 4;

    @AttributeDefinition(description = "Offer BLKIF_OP_FLUSH_DISKCACHE (feature-flush-cache) on writable disks: an fsync of the image.")
    boolean feature_flush_cache() default true;

    @AttributeDefinition(description = "Offer BLKIF_OP_WRITE_BARRIER (feature-barrier) on writable disks: fsync, the write, fsync.")
    boolean feature_barrier() default true;
}
