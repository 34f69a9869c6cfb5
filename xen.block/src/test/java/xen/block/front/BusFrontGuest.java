package xen.block.front;

import java.lang.foreign.MemorySegment;
import xen.bus.testing.GuestDomain;

/**
 * The bus fixture's guest domain as a frontend's guest. A class of its own, so that the rest of
 * this package (which the itests' probe carries) does not need xen.bus's test classes.
 */
public record BusFrontGuest(GuestDomain guest) implements FrontGuest {
    @Override
    public int domid() {
        return guest.domid();
    }

    @Override
    public long allocPage() {
        return guest.allocPage();
    }

    @Override
    public MemorySegment frames(long gfn, int count) {
        return guest.vcpus().memory().ram().asSlice(gfn * 4096, count * 4096L);
    }

    @Override
    public int grant(long gfn, boolean readOnly) {
        return guest.grant(gfn, readOnly);
    }

    @Override
    public int allocUnbound() {
        return guest.allocUnbound();
    }

    @Override
    public void notify(int port) {
        guest.notify(port);
    }
}
