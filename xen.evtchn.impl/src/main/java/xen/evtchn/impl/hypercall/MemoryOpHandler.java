package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.EOPNOTSUPP;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.XenMapSpace;
import xen.evtchn.api.abi.XenMem;
import xen.evtchn.api.abi.hypercall.AddToPhysmap;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;

/**
 * HYPERVISOR_memory_op(cmd, arg): XENMEM_add_to_physmap of the shared_info page and of grant
 * table frames, with Xen's checks in Xen's order. Every other XENMEM op answers -ENOSYS.
 */
public final class MemoryOpHandler implements HypercallHandler {
    /** xen_add_to_physmap.size is a u16: a continuation's start extent cannot be larger. */
    private static final long MAX_START_EXTENT = 0xFFFF;

    private final DomainTable domains;

    public MemoryOpHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        long cmd = call.arg(0);
        if ((cmd & XenMem.CMD_MASK) != XenMem.ADD_TO_PHYSMAP) {
            return -ENOSYS;
        }
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        if (cmd >>> XenMem.EXTENT_SHIFT > MAX_START_EXTENT) {
            return -EINVAL; // Xen: -EDOM
        }
        GuestWidth w = call.longMode() ? GuestWidth.X86_64 : GuestWidth.X86_32;
        MemorySegment s = call.guest(call.arg(1), AddToPhysmap.size(w));
        if (s == null) {
            return -EFAULT;
        }
        return addToPhysmap(p, AddToPhysmap.read(s, w));
    }

    private static long addToPhysmap(Domain p, AddToPhysmap a) {
        if (a.space() == XenMapSpace.GMFN_FOREIGN) {
            return -ENOSYS; // foreign frames only through add_to_physmap_batch
        }
        int rc = p.events().checkTarget(a.domid());
        if (rc != 0) {
            return rc;
        }
        return switch (a.space()) {
            case XenMapSpace.SHARED_INFO -> a.idx() != 0 ? -EINVAL : p.events().mapSharedInfo(a.gpfn());
            // a gpfn outside RAM (Linux's unpopulated-alloc hole) gets an extra page there
            case XenMapSpace.GRANT_TABLE -> p.grants().mapFrame(a.idx(), a.gpfn());
            // Xen does these; this project does not move guest frames
            case XenMapSpace.GMFN, XenMapSpace.GMFN_RANGE -> -EOPNOTSUPP;
            default -> -EINVAL;
        };
    }
}
