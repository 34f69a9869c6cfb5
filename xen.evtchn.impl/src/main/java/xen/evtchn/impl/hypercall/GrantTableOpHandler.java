package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.EPERM;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GnttabOp;
import xen.evtchn.api.abi.GrantStatus;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.hypercall.GnttabGetVersion;
import xen.evtchn.api.abi.hypercall.GnttabQuerySize;
import xen.evtchn.api.abi.hypercall.GnttabSetVersion;
import xen.evtchn.api.abi.hypercall.GnttabSetupTable;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.grant.GrantTable;

/**
 * HYPERVISOR_grant_table_op(cmd, uop, count) of an HVM guest on its own grant table, version 1:
 * GNTTABOP_query_size, setup_table, set_version and get_version, with Xen's checks in Xen's order
 * (common/grant_table.c). The ops Xen lets an HVM guest use as a backend (map_grant_ref,
 * unmap_grant_ref, copy, swap_grant_ref) answer -ENOSYS here: backends live in the host
 * ({@link xen.evtchn.api.backend.GrantTables}); every other op -ENOSYS, as hvm_grant_table_op.
 */
public final class GrantTableOpHandler implements HypercallHandler {
    private final DomainTable domains;

    public GrantTableOpHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        long cmd = call.arg(0) & 0xFFFF_FFFFL; // an unsigned int in Xen, continuation bits included
        int count = (int) call.arg(2);
        if (cmd != GnttabOp.QUERY_SIZE && cmd != GnttabOp.SETUP_TABLE && cmd != GnttabOp.SET_VERSION
                && cmd != GnttabOp.GET_VERSION) {
            return -ENOSYS;
        }
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        if (count < 0) {
            return -EINVAL;
        }
        return switch ((int) cmd) {
            case GnttabOp.QUERY_SIZE -> querySize(call, p, count);
            case GnttabOp.SETUP_TABLE -> setupTable(call, p, count);
            case GnttabOp.SET_VERSION -> setVersion(call, p);
            default -> getVersion(call, p);
        };
    }

    /** The status for a domid argument: another domain's table is XSM's to refuse, none is bad_domain. */
    private static int domainStatus(Domain p, int dom) {
        return switch (p.events().checkTarget(dom)) {
            case 0 -> GrantStatus.OKAY;
            case -EPERM -> GrantStatus.PERMISSION_DENIED;
            default -> GrantStatus.BAD_DOMAIN;
        };
    }

    /** Only one struct at a time (-EINVAL); nr_frames and max_nr_frames on success, else the status. */
    private static long querySize(HypercallContext call, Domain p, int count) {
        if (count != 1) {
            return -EINVAL;
        }
        MemorySegment s = call.guest(call.arg(1), GnttabQuerySize.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        GnttabQuerySize q = GnttabQuerySize.read(s);
        int status = domainStatus(p, q.dom());
        if (status == GrantStatus.OKAY) {
            GrantTable t = p.grants();
            new GnttabQuerySize(q.dom(), t.nrFrames(), t.maxFrames(), status).write(s);
        } else {
            new GnttabQuerySize(q.dom(), q.nrFrames(), q.maxNrFrames(), status).write(s);
        }
        return 0;
    }

    /**
     * Grows the table to nr_frames and lists the guest frame of each (all ones for a frame not in
     * guest memory, Xen's INVALID_GFN for an HVM guest), for HVM guests as Xen answers them too.
     * More than the maximum is general_error; a list not wholly in guest memory bad_virt_addr
     * with nothing written; a 32-bit caller's frame that does not fit its 4 bytes address_too_big
     * (Xen's compat check), the frames before it written.
     */
    private static long setupTable(HypercallContext call, Domain p, int count) {
        if (count != 1) {
            return -EINVAL;
        }
        GuestWidth w = call.longMode() ? GuestWidth.X86_64 : GuestWidth.X86_32;
        MemorySegment s = call.guest(call.arg(1), GnttabSetupTable.size(w));
        if (s == null) {
            return -EFAULT;
        }
        GnttabSetupTable a = GnttabSetupTable.read(s, w);
        GnttabSetupTable.writeStatus(s, setup(call, p, a, w));
        return 0;
    }

    private static int setup(HypercallContext call, Domain p, GnttabSetupTable a, GuestWidth w) {
        int status = domainStatus(p, a.dom());
        if (status != GrantStatus.OKAY) {
            return status;
        }
        GrantTable t = p.grants();
        long frames = Integer.toUnsignedLong(a.nrFrames());
        if (frames > t.maxFrames() || !t.grow((int) frames)) {
            return GrantStatus.GENERAL_ERROR;
        }
        int size = GnttabSetupTable.frameSize(w);
        MemorySegment list = call.guest(a.frameList(), frames * size);
        if (list == null) {
            return GrantStatus.BAD_VIRT_ADDR;
        }
        for (int i = 0; i < frames; i++) {
            long gpfn = t.gpfn(i);
            if (size == 8) {
                GuestField.u64(list, (long) i * size, gpfn);
            } else if (gpfn >>> 32 != 0) {
                return GrantStatus.ADDRESS_TOO_BIG;
            } else {
                GuestField.u32(list, (long) i * size, (int) gpfn);
            }
        }
        return GrantStatus.OKAY;
    }

    /** Version 1 stays (0), 2 is -ENOSYS, others -EINVAL; the version in force is written back each time. */
    private static long setVersion(HypercallContext call, Domain p) {
        MemorySegment s = call.guest(call.arg(1), GnttabSetVersion.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        GrantTable t = p.grants();
        int rc = t.setVersion(GnttabSetVersion.read(s).version());
        new GnttabSetVersion(t.version()).write(s);
        return rc;
    }

    /** Errno, not a status: -ESRCH for no such domain, -EPERM for another one. */
    private static long getVersion(HypercallContext call, Domain p) {
        MemorySegment s = call.guest(call.arg(1), GnttabGetVersion.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        int rc = p.events().checkTarget(GnttabGetVersion.read(s).dom());
        if (rc != 0) {
            return rc;
        }
        GnttabGetVersion.writeOut(s, p.grants().version());
        return 0;
    }
}
