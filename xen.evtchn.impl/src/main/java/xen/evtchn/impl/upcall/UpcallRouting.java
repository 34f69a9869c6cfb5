package xen.evtchn.impl.upcall;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntPredicate;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.VcpuBackend;

/**
 * How a domain's event upcalls reach its vCPUs: the domain-wide callback (HVM_PARAM_CALLBACK_IRQ:
 * a vector, a GSI or a PCI INTx line) and per-vCPU LAPIC vectors
 * (HVMOP_set_evtchn_upcall_vector), which win over it. Xen keeps this in its HVM interrupt code
 * (hvm/irq.c: hvm_set_callback_via, hvm_assert_evtchn_irq), not with the event channels, which
 * only say that a vCPU's upcall is pending.
 */
public final class UpcallRouting {
    private final VcpuBackend vcpus;
    /** Whether a vCPU's upcall_pending is set now (read from its vcpu_info). */
    private final IntPredicate upcallPending;
    private volatile UpcallRoute callback = UpcallRoute.NONE;
    private final AtomicReferenceArray<UpcallRoute.LapicVector> vcpuVectors;

    public UpcallRouting(VcpuBackend vcpus, IntPredicate upcallPending) {
        this.vcpus = vcpus;
        this.upcallPending = upcallPending;
        this.vcpuVectors = new AtomicReferenceArray<>(vcpus.vcpuCount());
    }

    /** Raises vCPU {@code vcpu}'s upcall by its route now. */
    public void deliver(int vcpu) {
        UpcallRoute route = vcpuVectors.get(vcpu);
        if (route == null) {
            route = callback;
            if (route instanceof UpcallRoute.Gsi || route instanceof UpcallRoute.PciIntx) {
                // vCPU 0's line only, as on Xen, held as a level while its upcall_pending is set.
                if (vcpu == 0) {
                    vcpus.assertLevel(route, () -> upcallPending.test(0));
                }
                return;
            }
        }
        vcpus.deliverUpcall(vcpu, route);
    }

    /** HVM_PARAM_CALLBACK_IRQ: how upcalls reach vCPUs without a per-vCPU vector. */
    public void setCallback(UpcallRoute route) {
        callback = route;
    }

    public UpcallRoute callback() {
        return callback;
    }

    /** HVMOP_set_evtchn_upcall_vector for one vCPU (null: back to the domain's callback). */
    public void setVcpuVector(int vcpu, UpcallRoute.LapicVector vector) {
        vcpuVectors.set(vcpu, vector);
    }

    /** vCPU {@code vcpu}'s own vector, or null if it uses the domain's callback. */
    public UpcallRoute.LapicVector vcpuVector(int vcpu) {
        return vcpuVectors.get(vcpu);
    }

    /** Soft reset: back to no callback and no per-vCPU vectors. */
    public void reset() {
        callback = UpcallRoute.NONE;
        for (int v = 0; v < vcpuVectors.length(); v++) {
            vcpuVectors.set(v, null);
        }
    }

    /**
     * Delivers vCPU {@code vcpu}'s upcall again by the route it has now, if its upcall_pending is
     * set: after the guest changes how upcalls reach it (HVM_PARAM_CALLBACK_IRQ,
     * HVMOP_set_evtchn_upcall_vector), an event already pending is not left behind, as Xen's
     * hvm_assert_evtchn_irq. Returns true if it delivered.
     */
    public boolean reassert(int vcpu) {
        if (!vcpus.vcpuExists(vcpu) || !upcallPending.test(vcpu)) {
            return false;
        }
        deliver(vcpu);
        return true;
    }
}
