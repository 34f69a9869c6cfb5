package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOENT;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.EPERM;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.hypercall.EvtchnUpcallVector;
import xen.evtchn.api.abi.hypercall.HvmParamArg;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.domain.HvmParams;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * HYPERVISOR_hvm_op(op, arg): HVMOP_set_param and HVMOP_get_param on the caller's own domain, and
 * HVMOP_set_evtchn_upcall_vector, with Xen's checks in Xen's order. Every other HVMOP answers
 * -ENOSYS.
 */
public final class HvmOpHandler implements HypercallHandler {
    private final DomainTable domains;

    public HvmOpHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        long op = call.arg(0); // an unsigned long in Xen: all 64 bits count
        if (op != HvmOp.SET_PARAM && op != HvmOp.GET_PARAM && op != HvmOp.SET_EVTCHN_UPCALL_VECTOR) {
            return -ENOSYS;
        }
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        if (op == HvmOp.SET_EVTCHN_UPCALL_VECTOR) {
            return upcallVector(call, p.events());
        }
        return param(call, p, op == HvmOp.SET_PARAM);
    }

    /**
     * Xen's order: the target domain must exist (-ESRCH), the index be below HVM_NR_PARAMS
     * (-EINVAL), the target be the caller (-EPERM), the index be one the guest may use (-EPERM).
     */
    private static long param(HypercallContext call, Domain p, boolean set) {
        MemorySegment s = call.guest(call.arg(1), HvmParamArg.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        HvmParamArg a = HvmParamArg.read(s);
        int rc = p.events().checkTarget(a.domid());
        if (rc == -ESRCH) {
            return rc;
        }
        if (!HvmParams.isIndex(a.index())) {
            return -EINVAL;
        }
        if (rc != 0) {
            return rc;
        }
        if (set) {
            if (!HvmParams.guestMaySet(a.index())) {
                return -EPERM;
            }
            p.setParam(a.index(), a.value());
            return 0;
        }
        if (!HvmParams.guestMayGet(a.index())) {
            return -EPERM;
        }
        HvmParamArg.writeOut(s, p.param(a.index()));
        return 0;
    }

    /**
     * Xen checks the vector before the vCPU. Xen then injects the vector at once, pending event
     * or not; this delivers it only if the vCPU's upcall_pending is set (nothing is lost either
     * way, and the guest gets no spurious interrupt).
     */
    private static long upcallVector(HypercallContext call, GuestEventChannels d) {
        MemorySegment s = call.guest(call.arg(1), EvtchnUpcallVector.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        EvtchnUpcallVector a = EvtchnUpcallVector.read(s);
        if (a.vector() < HvmOp.MIN_UPCALL_VECTOR) {
            return -EINVAL;
        }
        if (!d.vcpus().vcpuExists(a.vcpu())) {
            return -ENOENT;
        }
        d.upcalls().setVcpuVector(a.vcpu(), new UpcallRoute.LapicVector(a.vector()));
        d.upcalls().reassert(a.vcpu());
        return 0;
    }
}
