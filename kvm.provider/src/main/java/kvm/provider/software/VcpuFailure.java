package kvm.provider.software;

/** Guest code on a software vCPU threw: a guest crash or a host bug surfacing in a hypercall. */
public final class VcpuFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int vcpu;

    VcpuFailure(int domid, int vcpu, Throwable cause) {
        super("dom" + domid + " vCPU " + vcpu + ": guest code failed: " + cause, cause);
        this.vcpu = vcpu;
    }

    /** The vCPU whose guest code threw. */
    public int vcpu() {
        return vcpu;
    }
}
