package xen.evtchn.api.host;

/**
 * The service properties of a booted domain's {@link DomainHandle} registration: the contract
 * between a guest booter (a bundle that boots guests on a {@link GuestHost} and registers each
 * domain's handle) and whoever follows its domains (a launcher, tools, tests), which may share no
 * classes with the booter and so find a domain by these names, e.g. with the filter
 * {@code (&(xen.domain=1)(xen.shutdown=*))}.
 *
 * <p>While the domain runs, its registration carries {@value #DOMAIN} and {@value #GUEST}. Once
 * the guest has ended, the booter adds {@value #SHUTDOWN}, {@value #SHUTDOWN_CODE} and, if the
 * guest failed rather than shut down by itself, {@value #FAILURE}. The values of the shutdown
 * reason are those of {@link xen.evtchn.api.abi.SchedOp}.
 */
public final class DomainProperties {
    /** The domain's id, an Integer. */
    public static final String DOMAIN = "xen.domain";
    /** Which booter's guest it is, a String its booter names (e.g. "reference", "kernel"). */
    public static final String GUEST = "xen.guest";
    /**
     * The shutdown reason's name, a String ({@link xen.evtchn.api.abi.SchedOp#shutdownReason}:
     * poweroff, reboot, suspend, crash, watchdog).
     */
    public static final String SHUTDOWN = "xen.shutdown";
    /** The shutdown reason, an Integer (SchedOp.SHUTDOWN_*). */
    public static final String SHUTDOWN_CODE = "xen.shutdown.code";
    /**
     * What failed, a String, if the guest failed (a panicked vCPU, a triple fault) rather than
     * shut down by itself; its reason is then crash.
     */
    public static final String FAILURE = "xen.failure";

    private DomainProperties() {
    }
}
