package reference.guest;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SharedInfoLayout;
import xen.evtchn.api.abi.VcpuInfoLayout;

/**
 * One vCPU's side of the 2-level ABI (64-bit layout): its table of bound ports and Linux's
 * upcall handler, xen_evtchn_do_upcall with evtchn_2l_handle_events.
 *
 * <p>Per upcall: upcall_pending = 0, then pending_sel is exchanged with 0 and each selected word
 * is scanned for ports that are pending, not masked and bound to this vCPU (Linux's per-CPU
 * cpu_evtchn_mask: shared_info's bitmaps are shared by all vCPUs); repeated while upcall_pending
 * was set again meanwhile. The scan is round-robin: it starts just after the last port it handled
 * (current word, current bit), so a busy low port cannot starve the others. The start word is
 * visited twice: first its bits from the start bit up, last (after every other word) the bits
 * below the start bit. Each port's pending bit is cleared atomically before its handler runs
 * (VIRQs and IPIs are edge-like: nothing to mask), so an event arriving during the handler is
 * seen again.
 *
 * <p>Runs on its vCPU only (with interrupts off), as Linux's per-CPU state does; the words it
 * shares with the hypervisor are updated with atomic VarHandle operations.
 */
final class EventScanner implements PortEvents {
    static final int WORD_BITS = GuestWidth.X86_64.wordBits();
    static final int PORTS = GuestWidth.X86_64.twoLevelPorts();

    private static final SharedInfoLayout SHARED = SharedInfoLayout.X86_64;
    private static final VcpuInfoLayout VCPU = VcpuInfoLayout.X86_64;
    private static final VarHandle U64 = ValueLayout.JAVA_LONG.varHandle();
    private static final VarHandle U8 = ValueLayout.JAVA_BYTE.varHandle();

    private final MemorySegment sharedInfo;
    private final MemorySegment vcpuInfo;
    /** Linux's cpu_evtchn_mask: the ports bound to this vCPU. */
    private final long[] bound = new long[WORD_BITS];
    private final PortHandler[] handlers = new PortHandler[PORTS];
    private int currentWord;
    private int currentBit;

    /**
     * @param sharedInfo the shared_info page as mapped in guest memory
     * @param vcpuInfo   this vCPU's 64-byte vcpu_info
     */
    EventScanner(MemorySegment sharedInfo, MemorySegment vcpuInfo) {
        this.sharedInfo = sharedInfo;
        this.vcpuInfo = vcpuInfo;
    }

    @Override
    public void bind(int port, PortHandler handler) {
        if (port <= 0 || port >= PORTS) {
            throw new GuestPanic("the hypervisor returned port " + port + ", outside 1.." + (PORTS - 1));
        }
        if (handlers[port] != null) {
            throw new GuestPanic("the hypervisor returned port " + port + " twice");
        }
        handlers[port] = handler;
        bound[port / WORD_BITS] |= 1L << port;
    }

    /** Scans until upcall_pending stays clear. */
    @Override
    public int handleUpcall() {
        int handled = 0;
        do {
            U8.setVolatile(vcpuInfo, VCPU.upcallPending(), (byte) 0);
            handled += scan();
        } while ((byte) U8.getVolatile(vcpuInfo, VCPU.upcallPending()) != 0);
        return handled;
    }

    /** One pass: takes pending_sel and dispatches what it selects, round-robin. Returns ports dispatched. */
    int scan() {
        long pendingWords = (long) U64.getAndSet(vcpuInfo, VCPU.pendingSel(), 0L);
        int startWord = currentWord;
        int startBit = currentBit;
        int wordIdx = startWord;
        int handled = 0;
        for (int i = 0; pendingWords != 0; i++) {
            long words = pendingWords & (-1L << wordIdx);
            if (words == 0) {
                wordIdx = 0; // nothing at or above wordIdx: wrap to the beginning
                continue;
            }
            wordIdx = Long.numberOfTrailingZeros(words);
            long bits = active(wordIdx);
            int bitIdx = 0; // usually the whole word, from its first bit
            if (wordIdx == startWord) {
                if (i == 0) {
                    bitIdx = startBit; // first visit: from where the last scan stopped
                } else {
                    bits &= (1L << startBit) - 1; // second visit: only the bits below it
                }
            }
            do {
                long left = bits & (-1L << bitIdx);
                if (left == 0) {
                    break;
                }
                bitIdx = Long.numberOfTrailingZeros(left);
                dispatch(wordIdx * WORD_BITS + bitIdx);
                handled++;
                bitIdx = (bitIdx + 1) % WORD_BITS;
                // The next scan starts just after the port handled last.
                currentWord = bitIdx != 0 ? wordIdx : (wordIdx + 1) % WORD_BITS;
                currentBit = bitIdx;
            } while (bitIdx != 0);
            // The start word is scanned twice, every other word once.
            if (wordIdx != startWord || i != 0) {
                pendingWords &= ~(1L << wordIdx);
            }
            wordIdx = (wordIdx + 1) % WORD_BITS;
        }
        return handled;
    }

    /** Where the next scan starts: word index. */
    int currentWord() {
        return currentWord;
    }

    /** Where the next scan starts: bit index within {@link #currentWord()}. */
    int currentBit() {
        return currentBit;
    }

    /** Ports of word {@code w} that are pending, not masked, and bound to this vCPU. */
    private long active(int w) {
        long off = (long) w * Long.BYTES;
        long pending = (long) U64.getVolatile(sharedInfo, SHARED.evtchnPending() + off);
        long mask = (long) U64.getVolatile(sharedInfo, SHARED.evtchnMask() + off);
        return pending & bound[w] & ~mask;
    }

    private void dispatch(int port) {
        long off = SHARED.evtchnPending() + (long) (port / WORD_BITS) * Long.BYTES;
        U64.getAndBitwiseAnd(sharedInfo, off, ~(1L << port)); // sync_clear_bit
        handlers[port].handle(port);
    }
}
