package xen.evtchn.api.abi;

import xen.evtchn.api.GuestMemory;

/**
 * The FIFO event channel ABI (xen/include/public/event_channel.h): each port has a 32-bit event
 * word in the guest's event array pages; each vCPU has a control block with a READY word and the
 * head of one queue per priority.
 */
public final class EvtchnFifo {
    /** Event word bits. */
    public static final int PENDING = 31;
    public static final int MASKED = 30;
    public static final int LINKED = 29;
    public static final int BUSY = 28;
    /** LINK: the next port in the queue, bits 0..16. */
    public static final int LINK_BITS = 17;
    public static final int LINK_MASK = (1 << LINK_BITS) - 1;
    /** Ports the FIFO ABI can have (2^17). */
    public static final int NR_CHANNELS = 1 << LINK_BITS;

    /** Priority 0 is the highest, 15 the lowest; ports start at 7. */
    public static final int PRIORITY_MAX = 0;
    public static final int PRIORITY_DEFAULT = 7;
    public static final int PRIORITY_MIN = 15;
    public static final int MAX_QUEUES = PRIORITY_MIN + 1;

    /** evtchn_fifo_control_block: ready u32 @0, _rsvd u32 @4, head u32[16] @8. */
    public static final int CONTROL_BLOCK_SIZE = 72;
    public static final int READY = 0;
    public static final int HEAD = 8;

    /** Event words a page of the event array holds, and pages at most. */
    public static final int WORDS_PER_PAGE = GuestMemory.PAGE_SIZE / 4;
    public static final int MAX_PAGES = NR_CHANNELS / WORDS_PER_PAGE;

    private EvtchnFifo() {
    }

    /** Offset in the control block of the head of priority {@code priority}'s queue. */
    public static int head(int priority) {
        return HEAD + 4 * priority;
    }
}
