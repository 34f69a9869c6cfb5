package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Leaf 1 as a vCPU sees it, without KVM. */
class XenCpuidLeafTest {
    private static final KvmCpuidEntry HOST_LEAF1 = new KvmCpuidEntry(1, 0, 0, 0x00a50f00, 0x12345678,
            XenCpuid.CPUID1_ECX_CX16 | 1, 1 << 4);

    @Test
    void cmpxchg16bIsHiddenOnlyWhereAsked() {
        KvmCpuidEntry kept = XenCpuid.ownVcpu(HOST_LEAF1, 1, 2, false);
        KvmCpuidEntry hidden = XenCpuid.ownVcpu(HOST_LEAF1, 1, 2, true);
        assertEquals(XenCpuid.CPUID1_ECX_CX16 | 1 | XenCpuid.CPUID1_ECX_HYPERVISOR, kept.ecx());
        assertEquals(1 | XenCpuid.CPUID1_ECX_HYPERVISOR, hidden.ecx(), "CX16 gone, the rest and the hypervisor bit kept");
        assertEquals(kept.ebx(), hidden.ebx());
        assertEquals(1 << 24 | 2 << 16 | 0x5678, hidden.ebx(), "initial APIC ID 1 of 2 logical processors");
        assertEquals(1 << 4 | XenCpuid.CPUID1_EDX_HTT, hidden.edx());
    }
}
