package kvm.provider.kvm;

/**
 * kvm_run.msr of a KVM_EXIT_X86_RDMSR/WRMSR: why it exited ({@link #REASON_FILTER}, ...), the MSR
 * and, for wrmsr, the value written (edx:eax). Completed by {@link KvmVcpu#completeMsr}.
 */
public record KvmMsrExit(int reason, int index, long data) {
    /** KVM_MSR_EXIT_REASON_INVAL: an access KVM would have answered with #GP. */
    public static final int REASON_INVAL = 1;
    /** KVM_MSR_EXIT_REASON_UNKNOWN: an MSR KVM does not know. */
    public static final int REASON_UNKNOWN = 1 << 1;
    /** KVM_MSR_EXIT_REASON_FILTER: an access denied by KVM_X86_SET_MSR_FILTER. */
    public static final int REASON_FILTER = 1 << 2;
}
