package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.ESRCH;
import static xen.evtchn.api.abi.XenFeat.AUTO_TRANSLATED_PHYSMAP;
import static xen.evtchn.api.abi.XenFeat.HVM_CALLBACK_VECTOR;
import static xen.evtchn.api.abi.XenFeat.HVM_SAFE_PVCLOCK;
import static xen.evtchn.api.abi.XenFeat.WRITABLE_PAGE_TABLES;
import static xen.evtchn.api.abi.XenFeat.bit;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.XenVer;
import xen.evtchn.api.abi.hypercall.FeatureInfo;
import xen.evtchn.api.abi.hypercall.PlatformParameters;
import xen.evtchn.api.abi.hypercall.XenString;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.domain.XenVersionInfo;

/**
 * HYPERVISOR_xen_version(cmd, arg), as Xen answers an HVM guest: the version number, the strings
 * of the domain's {@link XenVersionInfo}, platform parameters, feature flags, the page size. An
 * unknown cmd answers -ENOSYS; a buffer outside the caller's memory -EFAULT, with nothing written.
 */
public final class XenVersionHandler implements HypercallHandler {
    /**
     * Submap 0 for an HVM guest: what Xen sets for one (writable page tables and auto-translated
     * physmap for a translated guest, the callback vector, safe pvclock) less what this project
     * does not implement (vNUMA memory ops, HVM pirqs). Never supervisor_mode_kernel.
     */
    public static final int HVM_FEATURES = bit(WRITABLE_PAGE_TABLES) | bit(AUTO_TRANSLATED_PHYSMAP)
            | bit(HVM_CALLBACK_VECTOR) | bit(HVM_SAFE_PVCLOCK);

    /** An HVM guest's virt_start: current Xen reserves none of an HVM guest's address space and answers 0. */
    private static final PlatformParameters HVM_PLATFORM = new PlatformParameters(0);

    private final DomainTable domains;

    public XenVersionHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        int cmd = (int) call.arg(0); // Xen's do_xen_version takes an int
        if (cmd < XenVer.VERSION || cmd > XenVer.PAGESIZE) {
            return -ENOSYS;
        }
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        XenVersionInfo v = p.version();
        long arg = call.arg(1);
        return switch (cmd) {
            case XenVer.VERSION -> v.version();
            case XenVer.EXTRAVERSION -> copyOut(call, arg, v.extraVersionBytes());
            case XenVer.COMPILE_INFO -> copyOut(call, arg, v.compileInfoBytes());
            case XenVer.CAPABILITIES -> copyOut(call, arg, v.capabilitiesBytes());
            case XenVer.CHANGESET -> copyOut(call, arg, v.changesetBytes());
            case XenVer.PLATFORM_PARAMETERS -> platformParameters(call, arg);
            case XenVer.GET_FEATURES -> features(call, arg);
            default -> arg != 0 ? -EINVAL : GuestMemory.PAGE_SIZE; // XENVER_pagesize wants a NULL argument
        };
    }

    /** The struct is xen_ulong_t-sized by the caller's mode, as Xen's compat path. */
    private static long platformParameters(HypercallContext call, long arg) {
        GuestWidth w = call.longMode() ? GuestWidth.X86_64 : GuestWidth.X86_32;
        MemorySegment s = call.guest(arg, PlatformParameters.size(w));
        if (s == null) {
            return -EFAULT;
        }
        HVM_PLATFORM.write(s, w);
        return 0;
    }

    /** Submap 0 is the only one: any other index answers -EINVAL, as Xen does. */
    private static long features(HypercallContext call, long arg) {
        MemorySegment s = call.guest(arg, FeatureInfo.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        if (FeatureInfo.read(s).submapIdx() != 0) {
            return -EINVAL;
        }
        FeatureInfo.writeOut(s, HVM_FEATURES);
        return 0;
    }

    private static long copyOut(HypercallContext call, long arg, byte[] encoded) {
        MemorySegment s = call.guest(arg, encoded.length);
        if (s == null) {
            return -EFAULT;
        }
        XenString.write(s, encoded);
        return 0;
    }
}
