package reference.guest;

import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.VcpuInfoLayout;

/**
 * The reference guest's fixed map of guest-physical pages (guest-virtual = guest-physical).
 *
 * <pre>
 * gfn 0               unused (a stray null pointer lands here, not in a structure)
 * gfn 1               control page: the guest kernel's own shared words (below)
 * gfn 2               shared_info, mapped there with XENMEM_add_to_physmap
 * gfn 3               vcpu_info of every vCPU, vCPU n at offset n * 64 (VCPUOP_register_vcpu_info)
 * gfn 4 + n           vCPU n's scratch page: hypercall argument structs and console text
 * gfn 68, 69          FIFO mode: the control blocks, vCPU n at offset n * 128 (EVTCHNOP_init_control)
 * gfn 70 ..           FIFO mode: the event array, its pages in order (EVTCHNOP_expand_array), port n's word at 4n
 * </pre>
 *
 * Control page: BOOT_DONE u32 (vCPU 0 sets it once shared_info and the callback are in place);
 * STOPPED u32 and FINISHED u32 (vCPUs done ticking, vCPUs done draining their IPIs); IPI_PORTS
 * u32[64] (each vCPU publishes its IPI port, 0 until bound); IPI_MAILBOX u64[64] (messages queued
 * for each vCPU, as Linux queues call_function work before the IPI that kicks it).
 *
 * <p>Scratch page: each vCPU has its own, as vCPUs make hypercalls concurrently; within it the
 * vCPU's normal context and its upcall handler use separate argument areas (as they would use
 * separate stacks), and console text follows.
 */
public final class GuestMemoryMap {
    public static final int PAGE = GuestMemory.PAGE_SIZE;

    public static final long CONTROL_GFN = 1;
    public static final long SHARED_INFO_GFN = 2;
    public static final long VCPU_INFO_GFN = 3;
    public static final long SCRATCH_GFN = 4;
    public static final long FIFO_CONTROL_GFN = SCRATCH_GFN + 64;
    /** Bytes between two vCPUs' FIFO control blocks. */
    public static final int FIFO_CONTROL_STRIDE = 128;
    public static final long EVENT_ARRAY_GFN = FIFO_CONTROL_GFN + 2;

    /** One vcpu_info page holds this many vCPUs' vcpu_info. */
    public static final int MAX_VCPUS = PAGE / VcpuInfoLayout.SIZE;

    // Control page offsets.
    public static final long BOOT_DONE = 0x000;
    public static final long STOPPED = 0x008;
    public static final long FINISHED = 0x010;
    public static final long IPI_PORTS = 0x100;
    public static final long IPI_MAILBOX = IPI_PORTS + 4L * MAX_VCPUS;

    // Scratch page offsets.
    /** Argument structs of hypercalls made from the vCPU's normal context. */
    public static final long ARGS = 0x000;
    /** Argument structs of hypercalls made from the upcall handler. */
    public static final long IRQ_ARGS = 0x080;
    /** Bytes an argument area holds (the largest struct used is 24 bytes). */
    public static final int ARGS_SIZE = 0x80;
    /** Console text written with CONSOLEIO_write. */
    public static final long TEXT = 0x100;
    public static final int TEXT_SIZE = PAGE - (int) TEXT;

    private GuestMemoryMap() {
    }

    /** Guest RAM needed for {@code vcpus} vCPUs: up to the last scratch page. */
    public static long ramBytes(int vcpus) {
        return (SCRATCH_GFN + vcpus) * PAGE;
    }

    /** Guest RAM needed in FIFO mode with {@code arrayPages} event array pages: up to the last of them. */
    public static long fifoRamBytes(int arrayPages) {
        return (EVENT_ARRAY_GFN + arrayPages) * PAGE;
    }

    public static long fifoControlAddress(int vcpu) {
        return FIFO_CONTROL_GFN * PAGE + (long) vcpu * FIFO_CONTROL_STRIDE;
    }

    public static long eventArrayAddress() {
        return EVENT_ARRAY_GFN * PAGE;
    }

    public static long sharedInfoAddress() {
        return SHARED_INFO_GFN * PAGE;
    }

    /** Offset of vCPU {@code vcpu}'s vcpu_info in page {@link #VCPU_INFO_GFN}. */
    public static int vcpuInfoOffset(int vcpu) {
        return vcpu * VcpuInfoLayout.SIZE;
    }

    public static long vcpuInfoAddress(int vcpu) {
        return VCPU_INFO_GFN * PAGE + vcpuInfoOffset(vcpu);
    }

    public static long scratchAddress(int vcpu) {
        return (SCRATCH_GFN + vcpu) * PAGE;
    }

    public static long controlAddress() {
        return CONTROL_GFN * PAGE;
    }
}
