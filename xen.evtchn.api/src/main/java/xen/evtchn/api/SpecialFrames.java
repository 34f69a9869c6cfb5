package xen.evtchn.api;

import java.util.Objects;

/**
 * Guest frames a VMM sets aside for the toolstack's pages, Xen's "special pages" (QEMU's
 * XEN_SPECIAL_AREA): backed by memory like RAM, but outside the RAM the guest's memory map offers
 * it, so the guest never allocates them. The host puts the console ring there
 * ({@link #CONSOLE}) and XenStore's ring ({@link #STORE}).
 *
 * @param first the first frame number
 * @param count how many frames, 0 for none
 */
public record SpecialFrames(long first, int count) {
    /** No special frames: the domain gets no console ring and no xenstore ring. */
    public static final SpecialFrames NONE = new SpecialFrames(0, 0);
    /** The index of the console ring (struct xencons_interface) among the special frames. */
    public static final int CONSOLE = 0;
    /** The index of XenStore's ring (struct xenstore_domain_interface) among the special frames. */
    public static final int STORE = 1;

    public SpecialFrames {
        if (first < 0 || count < 0 || count > Long.MAX_VALUE / GuestMemory.PAGE_SIZE - first) {
            throw new IllegalArgumentException("special frames must be within the address space: first " + first
                    + ", count " + count);
        }
    }

    /** Whether there is a frame of index {@code index}. */
    public boolean has(int index) {
        return index >= 0 && index < count;
    }

    /** The frame number of index {@code index}. @throws IndexOutOfBoundsException if there is none */
    public long frame(int index) {
        return first + Objects.checkIndex(index, count);
    }
}
