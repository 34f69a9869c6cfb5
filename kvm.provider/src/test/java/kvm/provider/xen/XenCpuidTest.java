package kvm.provider.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import kvm.provider.kvm.KvmCpuidEntry;
import org.junit.jupiter.api.Test;

/** {@link XenCpuid} on a made-up KVM_GET_SUPPORTED_CPUID list: no KVM needed. */
class XenCpuidTest {
    static final int HOST_APIC_ID = 0x17;
    static final List<KvmCpuidEntry> SUPPORTED = List.of(
            KvmCpuidEntry.leaf(0, 0x1f, 0x68747541, 0x444d4163, 0x69746e65),
            KvmCpuidEntry.leaf(1, 0x00a00f11, HOST_APIC_ID << 24 | 0x40 << 16 | 0x0800, 0x7ed8320b, 0x178bfbff),
            new KvmCpuidEntry(0xb, 0, 1, 1, 2, 0x100, HOST_APIC_ID),
            new KvmCpuidEntry(0xb, 1, 1, 7, 64, 0x201, HOST_APIC_ID),
            new KvmCpuidEntry(0xb, 2, 1, 0, 0, 2, HOST_APIC_ID),
            KvmCpuidEntry.leaf(0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
            KvmCpuidEntry.leaf(0x40000001, 0x01007afb, 0, 0, 0),
            KvmCpuidEntry.leaf(0x80000001, 0x00a00f11, 0, 0x75c237ff, 0x2fd3fbff));

    static KvmCpuidEntry find(List<KvmCpuidEntry> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && e.index() == index).findFirst().orElseThrow();
    }

    @Test
    void eachVcpuHasItsOwnApicIdAndTheTopologyIsOnePackageOfCores() {
        List<KvmCpuidEntry> v2 = XenCpuid.entries(SUPPORTED, 2, 3, 7, true);
        KvmCpuidEntry leaf1 = find(v2, 1, 0);
        assertEquals(2, leaf1.ebx() >>> 24, "initial APIC ID = vCPU id");
        assertEquals(3, (leaf1.ebx() >>> 16) & 0xff, "logical processors in the package");
        assertEquals(0x0800, leaf1.ebx() & 0xffff, "clflush size kept");
        assertEquals(XenCpuid.CPUID1_ECX_HYPERVISOR, leaf1.ecx() & XenCpuid.CPUID1_ECX_HYPERVISOR);
        assertEquals(XenCpuid.CPUID1_EDX_HTT, leaf1.edx() & XenCpuid.CPUID1_EDX_HTT);
        assertEquals(new KvmCpuidEntry(0xb, 0, 1, 0, 1, 0x100, 2), find(v2, 0xb, 0), "SMT level: one thread");
        assertEquals(new KvmCpuidEntry(0xb, 1, 1, 2, 3, 0x201, 2), find(v2, 0xb, 1), "core level: 3 cores in 2 bits");
        assertEquals(new KvmCpuidEntry(0xb, 2, 1, 0, 0, 2, 2), find(v2, 0xb, 2), "no more levels");
        assertEquals(0, find(v2, 0x80000001, 0).ecx() & XenCpuid.EXT1_ECX_TOPOEXT, "no host topology through TOPOEXT");

        KvmCpuidEntry alone = find(XenCpuid.entries(SUPPORTED, 0, 1, 7, false), 1, 0);
        assertEquals(0, alone.ebx() >>> 24);
        assertEquals(0, alone.edx() & XenCpuid.CPUID1_EDX_HTT, "one vCPU: no HTT");
    }

    @Test
    void xensLeavesReplaceKvmsWithTheVcpuAndDomainIds() {
        List<KvmCpuidEntry> e = XenCpuid.entries(SUPPORTED, 1, 2, 9, true);
        assertEquals(0x40000004, find(e, 0x40000000, 0).eax());
        assertEquals(0x566e6558, find(e, 0x40000000, 0).ebx(), "XenV");
        assertEquals(4 << 16 | 17, find(e, 0x40000001, 0).eax(), "Xen 4.17, not KVM's features leaf");
        KvmCpuidEntry hvm = find(e, 0x40000004, 0);
        assertEquals(XenCpuid.HVM_VCPU_ID_PRESENT | XenCpuid.HVM_DOMID_PRESENT | XenCpuid.HVM_UPCALL_VECTOR, hvm.eax());
        assertEquals(1, hvm.ebx(), "Xen vCPU id");
        assertEquals(9, hvm.ecx(), "domid");
        assertEquals(1, e.stream().filter(x -> x.function() == 0x40000000).count(), "KVM's signature is gone");
    }
}
