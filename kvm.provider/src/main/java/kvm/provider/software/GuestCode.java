package kvm.provider.software;

import xen.evtchn.api.UpcallRoute;

/** Guest code that runs on a {@link SoftwareVcpu}: the Java stand-in for a guest kernel. */
@FunctionalInterface
public interface GuestCode {
    /**
     * The vCPU's main loop, run on the vCPU's own thread. Should return once
     * {@link SoftwareVcpu#stopRequested()} is true; whatever it throws is reported by
     * {@link SoftwareBackend#join}.
     */
    void run(SoftwareVcpu cpu) throws Exception;

    /** The interrupt handler: called by {@link SoftwareVcpu#checkInterrupts()} with IF=0. */
    default void upcall(SoftwareVcpu cpu, UpcallRoute route) {
    }
}
