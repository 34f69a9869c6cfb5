package xen.evtchn.api.abi;

/** How a VIRQ is bound: on each vCPU separately, once per domain, or once globally (vCPU 0). */
public enum VirqKind {
    PER_VCPU, PER_DOMAIN, GLOBAL;

    /** Per-domain and global VIRQs must be bound with vcpu 0 (Xen's virq_is_global). */
    public boolean boundOnVcpu0Only() {
        return this != PER_VCPU;
    }
}
