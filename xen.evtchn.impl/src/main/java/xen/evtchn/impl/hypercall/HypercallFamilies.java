package xen.evtchn.impl.hypercall;

import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.impl.domain.DomainTable;
import xen.evtchn.impl.evtchn.Domains;

/**
 * Every hypercall family a Xen HVM guest needs, made and registered with a dispatcher in one
 * place, all or none: event_channel_op on the event channels' domains, and xen_version,
 * memory_op, hvm_op, console_io, vcpu_op, set_timer_op, sched_op and grant_table_op on the table
 * of domains.
 */
public final class HypercallFamilies {
    private static final int[] NUMBERS = {Hypercall.EVENT_CHANNEL_OP, Hypercall.XEN_VERSION, Hypercall.MEMORY_OP,
        Hypercall.HVM_OP, Hypercall.CONSOLE_IO, Hypercall.VCPU_OP, Hypercall.SET_TIMER_OP, Hypercall.SCHED_OP,
        Hypercall.GRANT_TABLE_OP};

    private final EventChannelOpHandler eventChannelOp;
    private final XenVersionHandler xenVersion;
    private final MemoryOpHandler memoryOp;
    private final HvmOpHandler hvmOp;
    private final ConsoleIoHandler consoleIo;
    private final VcpuOpHandler vcpuOp;
    private final SetTimerOpHandler setTimerOp;
    private final SchedOpHandler schedOp;
    private final GrantTableOpHandler grantTableOp;

    public HypercallFamilies(Domains eventChannels, DomainTable domains, ShutdownListener shutdowns) {
        eventChannelOp = new EventChannelOpHandler(eventChannels);
        xenVersion = new XenVersionHandler(domains);
        memoryOp = new MemoryOpHandler(domains);
        hvmOp = new HvmOpHandler(domains);
        consoleIo = new ConsoleIoHandler(domains);
        vcpuOp = new VcpuOpHandler(domains);
        setTimerOp = new SetTimerOpHandler(domains);
        schedOp = new SchedOpHandler(domains, shutdowns);
        grantTableOp = new GrantTableOpHandler(domains);
    }

    /**
     * Registers every family, all or none: if a number is taken, those already registered are
     * taken away again and the dispatcher's IllegalStateException is thrown.
     */
    public void registerWith(HypercallDispatcher dispatcher) {
        try {
            for (int number : NUMBERS) {
                dispatcher.register(number, handler(number));
            }
        } catch (IllegalStateException e) {
            unregisterFrom(dispatcher);
            throw e;
        }
    }

    /** Removes those of the families that are still registered. */
    public void unregisterFrom(HypercallDispatcher dispatcher) {
        for (int number : NUMBERS) {
            dispatcher.unregister(number, handler(number));
        }
    }

    /** sched_op, whose shutdown the toolstack uses too. */
    public SchedOpHandler schedOp() {
        return schedOp;
    }

    /** The handler for {@code number}, or null if it is not one of the families. */
    public HypercallHandler handler(int number) {
        return switch (number) {
            case Hypercall.EVENT_CHANNEL_OP -> eventChannelOp;
            case Hypercall.XEN_VERSION -> xenVersion;
            case Hypercall.MEMORY_OP -> memoryOp;
            case Hypercall.HVM_OP -> hvmOp;
            case Hypercall.CONSOLE_IO -> consoleIo;
            case Hypercall.VCPU_OP -> vcpuOp;
            case Hypercall.SET_TIMER_OP -> setTimerOp;
            case Hypercall.SCHED_OP -> schedOp;
            case Hypercall.GRANT_TABLE_OP -> grantTableOp;
            default -> null;
        };
    }
}
