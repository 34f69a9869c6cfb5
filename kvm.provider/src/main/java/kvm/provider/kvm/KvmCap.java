package kvm.provider.kvm;

/** The KVM capabilities (KVM_CAP_*) this project asks about or enables, with linux/kvm.h's numbers. */
public enum KvmCap {
    /** KVM_CAP_USER_MEMORY: KVM_SET_USER_MEMORY_REGION. */
    USER_MEMORY(3),
    /** KVM_CAP_NR_VCPUS: the recommended most vCPUs of a VM. */
    NR_VCPUS(9),
    /** KVM_CAP_NR_MEMSLOTS: how many user memory slots a VM has (slots 0 .. n-1). */
    NR_MEMSLOTS(10),
    /** KVM_CAP_XEN_HVM: in-kernel Xen support (flags; 0 where there is none). */
    XEN_HVM(38),
    /** KVM_CAP_MAX_VCPUS: the most vCPUs a VM can have. */
    MAX_VCPUS(66),
    /** KVM_CAP_SYNC_REGS: the KVM_SYNC_X86_* register sets kvm_run can carry (a bit mask; 0 if none). */
    SYNC_REGS(74),
    /** KVM_CAP_X86_USER_SPACE_MSR: MSR accesses can exit to user space (a VM capability). */
    X86_USER_SPACE_MSR(188),
    /** KVM_CAP_X86_MSR_FILTER: KVM_X86_SET_MSR_FILTER is available. */
    X86_MSR_FILTER(189);

    private final int number;

    KvmCap(int number) {
        this.number = number;
    }

    /** The number KVM_CHECK_EXTENSION and KVM_ENABLE_CAP take. */
    public int number() {
        return number;
    }
}
