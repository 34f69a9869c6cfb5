package kvm.provider.kvm;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPUID leaves by which a guest finds Xen (xen/include/public/arch-x86/cpuid.h), replacing
 * KVM's own hypervisor leaves (0x40000000 and up) in a KVM_GET_SUPPORTED_CPUID list:
 * <ul>
 * <li>0x40000000: eax = highest Xen leaf (0x40000004), ebx:ecx:edx = "XenVMMXenVMM";</li>
 * <li>0x40000001: eax = Xen version, major &lt;&lt; 16 | minor ({@link #VERSION_MAJOR}.{@link #VERSION_MINOR});</li>
 * <li>0x40000002: eax = hypercall pages (1), ebx = the MSR whose write installs them
 *     ({@link HypercallPage#MSR}), ecx = edx = 0 (no features);</li>
 * <li>0x40000003: all zero (no TSC information offered; any sub-leaf);</li>
 * <li>0x40000004 (HVM features): eax = vCPU id present in ebx | domain id present in ecx, and
 *     nothing else: no APIC/x2APIC virtualisation, no IOMMU mappings; per-vCPU upcall vectors only where asked.</li>
 * </ul>
 */
public final class XenCpuid {
    public static final int BASE = 0x40000000;
    /** All leaves in [BASE, HYPERVISOR_END) are a hypervisor's; KVM's are dropped. */
    static final int HYPERVISOR_END = 0x50000000;
    public static final int VERSION_LEAF = BASE + 1;
    public static final int HYPERCALL_LEAF = BASE + 2;
    public static final int TIME_LEAF = BASE + 3;
    public static final int HVM_LEAF = BASE + 4;
    public static final String SIGNATURE = "XenVMMXenVMM";

    public static final int VERSION_MAJOR = 4;
    public static final int VERSION_MINOR = 17;
    static final int HYPERCALL_PAGES = 1;

    /** XEN_HVM_CPUID_VCPU_ID_PRESENT: leaf 0x40000004 ebx is the vCPU id. */
    public static final int HVM_VCPU_ID_PRESENT = 1 << 3;
    /** XEN_HVM_CPUID_DOMID_PRESENT: leaf 0x40000004 ecx is the domain id. */
    public static final int HVM_DOMID_PRESENT = 1 << 4;
    /** XEN_HVM_CPUID_UPCALL_VECTOR: HVMOP_set_evtchn_upcall_vector is available (per-vCPU vectors). */
    public static final int HVM_UPCALL_VECTOR = 1 << 6;

    private XenCpuid() {
    }

    /** {@code supported} without KVM's hypervisor leaves, plus Xen's for {@code vcpuId} of {@code domid}. */
    public static List<KvmCpuidEntry> entries(List<KvmCpuidEntry> supported, int vcpuId, int domid) {
        return entries(supported, vcpuId, domid, false);
    }

    /**
     * As {@link #entries(List, int, int)}, announcing per-vCPU upcall vectors if {@code upcallVector}
     * (only with local APICs, which the guest EOIs).
     */
    public static List<KvmCpuidEntry> entries(List<KvmCpuidEntry> supported, int vcpuId, int domid, boolean upcallVector) {
        List<KvmCpuidEntry> out = new ArrayList<>();
        for (KvmCpuidEntry e : supported) {
            if (Integer.compareUnsigned(e.function(), BASE) < 0
                    || Integer.compareUnsigned(e.function(), HYPERVISOR_END) >= 0) {
                out.add(e);
            }
        }
        ByteBuffer sig = ByteBuffer.wrap(SIGNATURE.getBytes(StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN);
        out.add(KvmCpuidEntry.leaf(BASE, HVM_LEAF, sig.getInt(0), sig.getInt(4), sig.getInt(8)));
        out.add(KvmCpuidEntry.leaf(VERSION_LEAF, VERSION_MAJOR << 16 | VERSION_MINOR, 0, 0, 0));
        out.add(KvmCpuidEntry.leaf(HYPERCALL_LEAF, HYPERCALL_PAGES, HypercallPage.MSR, 0, 0));
        out.add(KvmCpuidEntry.leaf(TIME_LEAF, 0, 0, 0, 0));
        int hvm = HVM_VCPU_ID_PRESENT | HVM_DOMID_PRESENT | (upcallVector ? HVM_UPCALL_VECTOR : 0);
        out.add(KvmCpuidEntry.leaf(HVM_LEAF, hvm, vcpuId, domid, 0));
        return out;
    }

    /** KVM_GET_SUPPORTED_CPUID, then KVM_SET_CPUID2 on {@code vcpu} with {@link #entries}. */
    public static void apply(KvmSystem kvm, KvmVcpu vcpu, int domid) {
        vcpu.setCpuid2(entries(kvm.supportedCpuid(), vcpu.id(), domid));
    }
}
