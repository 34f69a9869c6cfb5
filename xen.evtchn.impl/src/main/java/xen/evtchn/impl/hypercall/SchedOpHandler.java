package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.abi.hypercall.SchedPoll;
import xen.evtchn.api.abi.hypercall.SchedShutdown;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.time.DomainTime;

/**
 * HYPERVISOR_sched_op(cmd, arg): yield, block (wait for an event), poll (wait for one of up to
 * 128 ports, masked ones too, or a timeout), shutdown (soft reset is done here; every other
 * reason goes to the host's {@link ShutdownListener}). Block and poll park the calling vCPU's
 * thread inside the hypercall.
 */
public final class SchedOpHandler implements HypercallHandler {
    private final DomainTable domains;
    private final ShutdownListener shutdowns;

    public SchedOpHandler(DomainTable domains, ShutdownListener shutdowns) {
        this.domains = domains;
        this.shutdowns = shutdowns;
    }

    @Override
    public long hypercall(HypercallContext call) {
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        GuestEventChannels d = p.events();
        return switch ((int) call.arg(0)) {
            case SchedOp.YIELD -> {
                Thread.yield();
                yield 0;
            }
            case SchedOp.BLOCK -> {
                d.block(call.vcpu(), Long.MAX_VALUE);
                yield 0;
            }
            case SchedOp.SHUTDOWN -> {
                MemorySegment s = call.guest(call.arg(1), SchedShutdown.SIZE);
                yield s == null ? -EFAULT : shutdown(p, SchedShutdown.read(s).reason());
            }
            case SchedOp.POLL -> poll(call, d, p.time());
            default -> -ENOSYS;
        };
    }

    /** SCHEDOP_shutdown's work, also for the toolstack's shutdown of a domain: returns 0. */
    public long shutdown(Domain p, int reason) {
        if (reason == SchedOp.SHUTDOWN_SOFT_RESET) {
            p.softReset();
            return 0;
        }
        if (p.shutDown(reason)) {
            shutdowns.shutdown(p.domid(), reason);
        }
        return 0;
    }

    private long poll(HypercallContext call, GuestEventChannels d, DomainTime time) {
        GuestWidth width = call.longMode() ? GuestWidth.X86_64 : GuestWidth.X86_32;
        MemorySegment s = call.guest(call.arg(1), SchedPoll.size(width));
        if (s == null) {
            return -EFAULT;
        }
        SchedPoll p = SchedPoll.read(s, width);
        if (p.nrPorts() < 0 || p.nrPorts() > SchedOp.MAX_POLL_PORTS) {
            return -EINVAL;
        }
        MemorySegment list = call.guest(p.ports(), 4L * p.nrPorts());
        if (list == null) {
            return -EFAULT;
        }
        int[] ports = new int[p.nrPorts()];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = GuestField.u32(list, 4L * i);
        }
        long deadline = Long.MAX_VALUE;
        if (p.timeout() != 0) {
            long left = p.timeout() - time.clock().now();
            deadline = left <= 0 ? System.nanoTime() : saturatedAdd(System.nanoTime(), left);
        }
        return d.poll(call.vcpu(), ports, deadline, call.interruptsEnabled());
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
