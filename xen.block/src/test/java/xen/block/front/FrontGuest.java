package xen.block.front;

import java.lang.foreign.MemorySegment;

/**
 * What a {@link BlkFront} needs of its guest: pages of RAM (handed out in ascending frames), a
 * view of them, grants to domain 0 and the EVTCHNOP calls. {@link TestGuest} is one; the bus's
 * fixture's {@code xen.bus.testing.GuestDomain} is another, through {@link BusFrontGuest}.
 */
public interface FrontGuest {
    int domid();

    /** A zeroed page of RAM; consecutive calls give consecutive frames. */
    long allocPage();

    /** The guest's view of {@code count} frames from {@code gfn}. */
    MemorySegment frames(long gfn, int count);

    /** Grants frame {@code gfn} to domain 0; the reference. */
    int grant(long gfn, boolean readOnly);

    /** EVTCHNOP_alloc_unbound(DOMID_SELF, 0). */
    int allocUnbound();

    /** EVTCHNOP_send. */
    void notify(int port);
}
