package xen.evtchn.impl.evtchn;

import java.util.List;
import java.util.Objects;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.delivery.VcpuInfos;

/**
 * A guest domain's event channel state as values (2-level or FIFO): what {@link GuestEventChannels#image()}
 * takes and {@link DomainRestore} puts into a fresh domain. Pending and mask bits are not here: they
 * live in the guest's shared_info and vcpu_info, which move with guest memory, except that a
 * shared_info the guest never mapped is the hypervisor's own page and travels as
 * {@code sharedInfoPage}. The per-vCPU VIRQ table is not here either: it is exactly the VIRQ ports.
 *
 * @param validPorts     ports valid so far (Xen's valid_evtchns; they stay valid, XSA-338)
 * @param ports          the ports in use, in ascending order
 * @param vcpuVectors    per vCPU: its HVMOP_set_evtchn_upcall_vector vector, or -1 for the domain's callback
 * @param sharedInfoGfn  the frame shared_info is mapped at, or -1 if the guest has not mapped it
 * @param sharedInfoPage the shared_info contents when not mapped (its layout's size), else null
 * @param vcpuInfoAt     per vCPU: the guest-physical address of its registered vcpu_info, or -1
 * @param fifo           the FIFO ABI's state, or null under 2-level
 */
public record EventChannelImage(int validPorts, List<PortImage> ports, int[] vcpuVectors, long sharedInfoGfn,
        byte[] sharedInfoPage, long[] vcpuInfoAt, FifoImage fifo) {
    /** {@link #sharedInfoGfn} and {@link #vcpuInfoAt} of what the guest never placed. */
    public static final long NOWHERE = VcpuInfos.NOWHERE;
    /** A {@link #vcpuVectors} entry for a vCPU without a vector of its own. */
    public static final int NO_VECTOR = -1;

    public EventChannelImage {
        ports = List.copyOf(ports);
        Objects.requireNonNull(vcpuVectors, "vcpuVectors");
        Objects.requireNonNull(vcpuInfoAt, "vcpuInfoAt");
        if (vcpuVectors.length != vcpuInfoAt.length) {
            throw new IllegalArgumentException("vectors for " + vcpuVectors.length + " vCPUs, vcpu_info for " + vcpuInfoAt.length);
        }
        if ((sharedInfoGfn == NOWHERE) != (sharedInfoPage != null)) {
            throw new IllegalArgumentException("shared_info travels as a page exactly when it is not mapped");
        }
    }

    public int vcpus() {
        return vcpuVectors.length;
    }
}
