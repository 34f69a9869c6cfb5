package xen.block.front;

import java.lang.foreign.MemorySegment;

/**
 * What a {@link BlkFront} needs of its guest: pages of RAM (handed out in ascending frames), a
 * view of them, grants to domain 0 and the EVTCHNOP calls. {@link TestGuest} is one; the bus's
 * fixture ({@code xen.bus.testing.GuestDomain}) is another, through {@link #of}.
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

    /** The bus fixture's guest domain as a frontend's guest. */
    static FrontGuest of(xen.bus.testing.GuestDomain g) {
        return new FrontGuest() {
            @Override
            public int domid() {
                return g.domid();
            }

            @Override
            public long allocPage() {
                return g.allocPage();
            }

            @Override
            public MemorySegment frames(long gfn, int count) {
                return g.vcpus().memory().ram().asSlice(gfn * 4096, count * 4096L);
            }

            @Override
            public int grant(long gfn, boolean readOnly) {
                return g.grant(gfn, readOnly);
            }

            @Override
            public int allocUnbound() {
                return g.allocUnbound();
            }

            @Override
            public void notify(int port) {
                g.notify(port);
            }
        };
    }
}
