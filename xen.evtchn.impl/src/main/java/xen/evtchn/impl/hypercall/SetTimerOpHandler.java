package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.ESRCH;

import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;

/**
 * HYPERVISOR_set_timer_op(deadline): the calling vCPU's singleshot timer (0 stops it). A 64-bit
 * caller passes the deadline in one register; a 32-bit one in two (low, high).
 */
public final class SetTimerOpHandler implements HypercallHandler {
    private final DomainTable domains;

    public SetTimerOpHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        long deadline = call.longMode() ? call.arg(0) : (call.arg(0) & 0xFFFF_FFFFL) | call.arg(1) << 32;
        p.time().timers().setTimerOp(call.vcpu(), deadline);
        return 0;
    }
}
