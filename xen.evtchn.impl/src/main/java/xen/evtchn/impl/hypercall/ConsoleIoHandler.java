package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.ENOSYS;
import static xen.evtchn.api.abi.Errno.ESRCH;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.HypercallHandler;
import xen.evtchn.api.abi.ConsoleIo;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.Domain;
import xen.evtchn.impl.domain.DomainTable;

/**
 * HYPERVISOR_console_io(cmd, count, buffer). CONSOLEIO_write hands the bytes to the domain's
 * {@link DomainConsole} (rate limited, the excess dropped) and returns 0, as Xen does; the whole
 * buffer must be in the caller's memory, else -EFAULT and nothing is written. CONSOLEIO_read
 * finds no input (0 bytes). Any other cmd answers -ENOSYS.
 */
public final class ConsoleIoHandler implements HypercallHandler {
    /** cmd and count are unsigned ints in Xen: the upper half of a 64-bit register is ignored. */
    private static final long U32 = 0xFFFF_FFFFL;

    private final DomainTable domains;

    public ConsoleIoHandler(DomainTable domains) {
        this.domains = domains;
    }

    @Override
    public long hypercall(HypercallContext call) {
        long cmd = call.arg(0) & U32;
        if (cmd != ConsoleIo.WRITE && cmd != ConsoleIo.READ) {
            return -ENOSYS;
        }
        Domain p = domains.get(call.domid());
        if (p == null) {
            return -ESRCH;
        }
        if (cmd == ConsoleIo.READ) {
            return 0;
        }
        long count = call.arg(1) & U32;
        if (count == 0) {
            return 0;
        }
        MemorySegment bytes = call.guest(call.arg(2), count); // a view: nothing is copied yet
        if (bytes == null) {
            return -EFAULT;
        }
        p.console().write(bytes);
        return 0;
    }
}
