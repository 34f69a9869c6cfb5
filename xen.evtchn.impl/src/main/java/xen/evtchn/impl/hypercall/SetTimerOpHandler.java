package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.ESRCH;

import java.util.function.IntFunction;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.impl.time.DomainTime;

/**
 * HYPERVISOR_set_timer_op(deadline): the calling vCPU's singleshot timer (0 stops it). A 64-bit
 * caller passes the deadline in one register; a 32-bit one in two (low, high).
 */
public final class SetTimerOpHandler implements HypercallHandler {
    private final IntFunction<DomainTime> times;

    public SetTimerOpHandler(IntFunction<DomainTime> times) {
        this.times = times;
    }

    @Override
    public long hypercall(HypercallContext call) {
        DomainTime time = times.apply(call.domid());
        if (time == null) {
            return -ESRCH;
        }
        long deadline = call.longMode() ? call.arg(0) : (call.arg(0) & 0xFFFF_FFFFL) | call.arg(1) << 32;
        time.timers().setTimerOp(call.vcpu(), deadline);
        return 0;
    }
}
