package xen.evtchn.impl.hypercall;

import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.impl.domain.DomainTable;

/**
 * The four hypercall families that share {@link DomainTable}: xen_version, memory_op, hvm_op and
 * console_io, registered with a dispatcher by their numbers and taken away together.
 */
public final class PlatformHypercalls {
    private final XenVersionHandler xenVersion;
    private final MemoryOpHandler memoryOp;
    private final HvmOpHandler hvmOp;
    private final ConsoleIoHandler consoleIo;

    public PlatformHypercalls(DomainTable platforms) {
        xenVersion = new XenVersionHandler(platforms);
        memoryOp = new MemoryOpHandler(platforms);
        hvmOp = new HvmOpHandler(platforms);
        consoleIo = new ConsoleIoHandler(platforms);
    }

    /**
     * Registers the four handlers, all or none: if a number is taken, those already registered are
     * taken away again and the dispatcher's IllegalStateException is thrown.
     */
    public void registerWith(HypercallDispatcher dispatcher) {
        try {
            dispatcher.register(Hypercall.XEN_VERSION, xenVersion);
            dispatcher.register(Hypercall.MEMORY_OP, memoryOp);
            dispatcher.register(Hypercall.HVM_OP, hvmOp);
            dispatcher.register(Hypercall.CONSOLE_IO, consoleIo);
        } catch (IllegalStateException e) {
            unregisterFrom(dispatcher);
            throw e;
        }
    }

    /** Removes those of the four handlers that are still registered. */
    public void unregisterFrom(HypercallDispatcher dispatcher) {
        dispatcher.unregister(Hypercall.XEN_VERSION, xenVersion);
        dispatcher.unregister(Hypercall.MEMORY_OP, memoryOp);
        dispatcher.unregister(Hypercall.HVM_OP, hvmOp);
        dispatcher.unregister(Hypercall.CONSOLE_IO, consoleIo);
    }

    /** The handler for {@code number}, or null if it is not one of the four. */
    public HypercallHandler handler(int number) {
        return switch (number) {
            case Hypercall.XEN_VERSION -> xenVersion;
            case Hypercall.MEMORY_OP -> memoryOp;
            case Hypercall.HVM_OP -> hvmOp;
            case Hypercall.CONSOLE_IO -> consoleIo;
            default -> null;
        };
    }
}
