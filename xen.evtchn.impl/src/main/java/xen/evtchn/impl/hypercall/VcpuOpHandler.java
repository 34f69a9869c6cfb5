package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOENT;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.api.abi.hypercall.PeriodicTimer;
import xen.evtchn.api.abi.hypercall.RegisterVcpuInfo;
import xen.evtchn.api.abi.hypercall.RunstateArea;
import xen.evtchn.api.abi.hypercall.SingleshotTimer;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;
import xen.evtchn.impl.time.VcpuTimers;

/**
 * HYPERVISOR_vcpu_op(cmd, vcpuid, arg): register_vcpu_info, register_runstate_memory_area,
 * is_up, and the periodic and singleshot timers. A vcpuid that does not exist answers -ENOENT
 * for every cmd, first; the singleshot timer may only be set or stopped by the vCPU itself
 * (-EINVAL otherwise).
 */
public final class VcpuOpHandler implements HypercallHandler {
    private final DomainTable domains;

    public VcpuOpHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        GuestEventChannels d = p.events();
        DomainTime time = p.time();
        VcpuTimers t = time.timers();
        int cmd = (int) call.arg(0);
        int vcpu = (int) call.arg(1);
        if (!d.vcpus().vcpuExists(vcpu)) {
            return -ENOENT;
        }
        long arg = call.arg(2);
        return switch (cmd) {
            case VcpuOp.REGISTER_VCPU_INFO -> {
                MemorySegment s = call.guest(arg, RegisterVcpuInfo.SIZE);
                if (s == null) {
                    yield -EFAULT;
                }
                RegisterVcpuInfo r = RegisterVcpuInfo.read(s);
                int rc = d.registerVcpuInfo(vcpu, r.mfn(), r.offset());
                if (rc == 0) {
                    time.writeTimeInfo(d.vcpuInfo(vcpu));
                }
                yield rc;
            }
            case VcpuOp.IS_UP -> 1; // every vCPU of a domain runs from the start
            case VcpuOp.REGISTER_RUNSTATE_MEMORY_AREA -> runstateArea(call, arg, time);
            case VcpuOp.SET_PERIODIC_TIMER -> {
                MemorySegment s = call.guest(arg, PeriodicTimer.SIZE);
                yield s == null ? -EFAULT : t.setPeriodic(vcpu, PeriodicTimer.read(s).periodNs());
            }
            case VcpuOp.STOP_PERIODIC_TIMER -> {
                t.stopPeriodic(vcpu);
                yield 0;
            }
            case VcpuOp.SET_SINGLESHOT_TIMER -> {
                if (vcpu != call.vcpu()) {
                    yield -EINVAL;
                }
                MemorySegment s = call.guest(arg, SingleshotTimer.SIZE);
                if (s == null) {
                    yield -EFAULT;
                }
                // VCPU_SSHOTTMR_future is ignored, as Xen does: a deadline in the past fires at once.
                t.setSingleshot(vcpu, SingleshotTimer.read(s).timeoutAbsNs());
                yield 0;
            }
            case VcpuOp.STOP_SINGLESHOT_TIMER -> {
                if (vcpu != call.vcpu()) {
                    yield -EINVAL;
                }
                t.stopSingleshot(vcpu);
                yield 0;
            }
            default -> -ENOSYS;
        };
    }

    /**
     * As Xen: -EFAULT if the argument cannot be read, else the area is taken (0) and the vCPU's
     * runstate written there if it is mapped. Here a vCPU runs on its own thread, so its runstate
     * is "running since boot" and it is not updated again: the guest sees no steal time.
     */
    private static long runstateArea(HypercallContext call, long arg, DomainTime time) {
        MemorySegment s = call.guest(arg, RunstateArea.SIZE);
        if (s == null) {
            return -EFAULT;
        }
        GuestWidth width = call.longMode() ? GuestWidth.X86_64 : GuestWidth.X86_32;
        MemorySegment info = call.guest(RunstateArea.read(s).address(), RunstateArea.infoSize(width));
        if (info != null) {
            long now = time.clock().now();
            RunstateArea.writeInfo(info, width, RunstateArea.RUNNING, now, new long[] {now, 0, 0, 0});
        }
        return 0;
    }
}
