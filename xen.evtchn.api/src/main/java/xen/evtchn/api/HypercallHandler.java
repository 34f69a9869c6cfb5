package xen.evtchn.api;

/**
 * Handles one hypercall number. Registered as a service with the property
 * {@value #NUMBER_PROPERTY} set to the hypercall number.
 */
@FunctionalInterface
public interface HypercallHandler {
    String NUMBER_PROPERTY = "xen.hypercall";

    /** Runs the hypercall; returns the value for rax (a negated errno on failure). Never throws for guest input. */
    long hypercall(HypercallContext call);
}
