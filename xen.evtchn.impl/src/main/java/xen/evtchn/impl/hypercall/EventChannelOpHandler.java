package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.PortStatus;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.EvtchnOp;
import xen.evtchn.api.abi.evtchnop.AllocUnbound;
import xen.evtchn.api.abi.evtchnop.BindInterdomain;
import xen.evtchn.api.abi.evtchnop.BindIpi;
import xen.evtchn.api.abi.evtchnop.BindPirq;
import xen.evtchn.api.abi.evtchnop.BindVcpu;
import xen.evtchn.api.abi.evtchnop.BindVirq;
import xen.evtchn.api.abi.evtchnop.Close;
import xen.evtchn.api.abi.evtchnop.ExpandArray;
import xen.evtchn.api.abi.evtchnop.InitControl;
import xen.evtchn.api.abi.evtchnop.Reset;
import xen.evtchn.api.abi.evtchnop.Send;
import xen.evtchn.api.abi.evtchnop.SetPriority;
import xen.evtchn.api.abi.evtchnop.Status;
import xen.evtchn.api.abi.evtchnop.Unmask;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * HYPERVISOR_event_channel_op(cmd, arg): reads the op's struct from the caller's memory at
 * {@code arg}, runs it on the caller's domain, and writes the out fields back on success only.
 * An unknown cmd answers -ENOSYS without touching memory; a struct outside the caller's memory
 * -EFAULT, as Xen's copy_from_guest.
 */
public final class EventChannelOpHandler implements HypercallHandler {
    private final Domains domains;

    public EventChannelOpHandler(Domains domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        EvtchnOp op = EvtchnOp.of((int) call.arg(0));
        if (op == null) {
            return -ENOSYS;
        }
        GuestEventChannels d = domains.guest(call.domid());
        if (d == null) {
            return -ESRCH;
        }
        MemorySegment s = call.guest(call.arg(1), op.argSize());
        if (s == null) {
            return -EFAULT;
        }
        return switch (op) {
            case BIND_INTERDOMAIN -> {
                BindInterdomain a = BindInterdomain.read(s);
                yield out(d.bindInterdomain(a.remoteDom(), a.remotePort()), s, BindInterdomain::writeOut);
            }
            case BIND_VIRQ -> {
                BindVirq a = BindVirq.read(s);
                yield out(d.bindVirq(a.virq(), a.vcpu()), s, BindVirq::writeOut);
            }
            case BIND_PIRQ -> {
                BindPirq a = BindPirq.read(s);
                yield out(d.bindPirq(a.pirq(), a.flags()), s, BindPirq::writeOut);
            }
            case CLOSE -> d.close(Close.read(s).port());
            case SEND -> d.send(Send.read(s).port());
            case STATUS -> {
                Status a = Status.read(s);
                PortStatus st = d.status(a.dom(), a.port());
                if (st.error() == 0) {
                    Status.writeOut(s, st.status(), st.vcpu(), st.unionA(), st.unionB());
                }
                yield st.error();
            }
            case ALLOC_UNBOUND -> {
                AllocUnbound a = AllocUnbound.read(s);
                yield out(d.allocUnbound(a.dom(), a.remoteDom()), s, AllocUnbound::writeOut);
            }
            case BIND_IPI -> out(d.bindIpi(BindIpi.read(s).vcpu()), s, BindIpi::writeOut);
            case BIND_VCPU -> {
                BindVcpu a = BindVcpu.read(s);
                yield d.bindVcpu(a.port(), a.vcpu());
            }
            case UNMASK -> d.unmask(Unmask.read(s).port());
            case RESET -> d.reset(Reset.read(s).dom());
            case INIT_CONTROL -> {
                InitControl a = InitControl.read(s);
                int rc = d.initControl(a.controlGfn(), a.offset(), a.vcpu());
                if (rc == 0) {
                    InitControl.writeOut(s, EvtchnFifo.LINK_BITS);
                }
                yield rc;
            }
            case EXPAND_ARRAY -> d.expandArray(ExpandArray.read(s).arrayGfn());
            case SET_PRIORITY -> {
                SetPriority a = SetPriority.read(s);
                yield d.setPriority(a.port(), a.priority());
            }
        };
    }

    /** A port result: on success the port goes to its out field and the hypercall returns 0. */
    private static long out(int result, MemorySegment s, PortOut field) {
        if (result < 0) {
            return result;
        }
        field.write(s, result);
        return 0;
    }

    /** A codec's writeOut for an op whose only out field is a port. */
    @FunctionalInterface
    private interface PortOut {
        void write(MemorySegment s, int port);
    }
}
