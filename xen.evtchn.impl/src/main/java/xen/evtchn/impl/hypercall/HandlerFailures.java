package xen.evtchn.impl.hypercall;

import static xen.evtchn.api.abi.Errno.EFAULT;
import static xen.evtchn.api.abi.Errno.EINVAL;

import java.util.Objects;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.impl.console.TokenBucket;

/**
 * What the dispatcher makes of an exception a handler let escape. A handler never throws for
 * anything a guest can do, so one that does has a bug; the guest must not pay for it with its
 * domain (on KVM an exception out of the vCPU loop crashes it). The guest gets an errno, as for
 * any refused call, and the host one log line naming the domain, vCPU, hypercall and exception,
 * without a stack trace. Lines are rate limited, since a guest that found such a bug can call it
 * in a loop; the ones dropped are counted in the next line that goes out.
 */
public final class HandlerFailures {
    /** Log lines a second, after a burst of {@link #BURST}. */
    public static final long RATE = 10;
    public static final long BURST = 20;
    /** An exception's message is cut here: the line stays one line of bounded length. */
    static final int MAX_MESSAGE = 200;

    /** Where the lines go; the exception comes along for a test or fuzzer that wants it. */
    @FunctionalInterface
    public interface Log {
        void line(String line, RuntimeException cause);
    }

    /** The host's standard error, as the host's other messages. */
    public static final Log STDERR = (line, cause) -> System.err.println(line);

    private final Log log;
    private final TokenBucket lines;
    private long dropped;

    public HandlerFailures(Log log, TokenBucket lines) {
        this.log = Objects.requireNonNull(log, "log");
        this.lines = Objects.requireNonNull(lines, "lines");
    }

    public HandlerFailures(Log log) {
        this(log, new TokenBucket(RATE, BURST));
    }

    /**
     * The errno for a handler's exception: -EFAULT for an access outside a segment (guest memory
     * the handler reached too far into), -EINVAL for anything else.
     */
    static long errnoOf(RuntimeException e) {
        return e instanceof IndexOutOfBoundsException ? -EFAULT : -EINVAL;
    }

    /** Logs {@code e} from {@code call}'s handler, as far as the rate allows, and returns the guest's answer. */
    long failed(HypercallContext call, RuntimeException e) {
        long answer = errnoOf(e);
        long droppedBefore;
        synchronized (this) {
            if (lines.take(1) == 0) {
                dropped++;
                return answer;
            }
            droppedBefore = dropped;
            dropped = 0;
        }
        log.line(line(call, e, answer, droppedBefore), e);
        return answer;
    }

    private static String line(HypercallContext call, RuntimeException e, long answer, long droppedBefore) {
        String message = String.valueOf(e.getMessage());
        if (message.length() > MAX_MESSAGE) {
            message = message.substring(0, MAX_MESSAGE) + "...";
        }
        return "xen host: dom" + call.domid() + " vcpu " + call.vcpu() + ": hypercall " + call.number()
                + " (arg0 0x" + Long.toHexString(call.arg(0)) + ") threw " + e.getClass().getName() + ": " + message
                + "; the guest got " + Errno.describe(answer)
                + (droppedBefore == 0 ? "" : " (" + droppedBefore + " such lines dropped before this one)");
    }
}
