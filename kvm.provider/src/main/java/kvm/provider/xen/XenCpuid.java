package kvm.provider.xen;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.kvm.KvmCpuidEntry;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;

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
 * and makes the standard leaves each vCPU's own, as a VMM must (KVM passes the host's values):
 * leaf 1 with the hypervisor bit and the vCPU's initial APIC ID (= its vCPU id, the local APIC's
 * and the MADT's), leaves 0xb and 0x1f with its x2APIC ID and a topology of one thread per core,
 * {@code vcpus} cores in one package; AMD's TOPOEXT is hidden, so that Linux reads no host
 * topology from leaf 0x8000001e.
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

    /** {@code supported} without KVM's hypervisor leaves, plus Xen's for {@code vcpuId} of {@code domid} (one vCPU). */
    public static List<KvmCpuidEntry> entries(List<KvmCpuidEntry> supported, int vcpuId, int domid) {
        return entries(supported, vcpuId, 1, domid, false);
    }

    /**
     * As {@link #entries(List, int, int)} for vCPU {@code vcpuId} of {@code vcpus}, announcing
     * per-vCPU upcall vectors if {@code upcallVector} (only with local APICs, which the guest EOIs).
     */
    public static List<KvmCpuidEntry> entries(List<KvmCpuidEntry> supported, int vcpuId, int vcpus, int domid,
            boolean upcallVector) {
        List<KvmCpuidEntry> out = new ArrayList<>();
        for (KvmCpuidEntry e : supported) {
            if (Integer.compareUnsigned(e.function(), BASE) < 0
                    || Integer.compareUnsigned(e.function(), HYPERVISOR_END) >= 0) {
                out.add(ownVcpu(e, vcpuId, vcpus));
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

    /** Leaf 1 ecx: a hypervisor is present. */
    static final int CPUID1_ECX_HYPERVISOR = 1 << 31;
    /** Leaf 1 edx: more than one logical processor per package (ebx[23:16] counts them). */
    static final int CPUID1_EDX_HTT = 1 << 28;
    /** Leaf 0x80000001 ecx: AMD topology extensions (leaf 0x8000001e). */
    static final int EXT1_ECX_TOPOEXT = 1 << 22;

    /** {@code e} as vCPU {@code id} of {@code vcpus} sees it (see the class comment). */
    static KvmCpuidEntry ownVcpu(KvmCpuidEntry e, int id, int vcpus) {
        int coreShift = 32 - Integer.numberOfLeadingZeros(Math.max(1, vcpus - 1));
        return switch (e.function()) {
            case 1 -> new KvmCpuidEntry(1, e.index(), e.flags(), e.eax(),
                    id << 24 | Math.min(vcpus, 255) << 16 | (e.ebx() & 0xffff), e.ecx() | CPUID1_ECX_HYPERVISOR,
                    vcpus > 1 ? e.edx() | CPUID1_EDX_HTT : e.edx() & ~CPUID1_EDX_HTT);
            case 0xb, 0x1f -> switch (e.index()) {
                case 0 -> new KvmCpuidEntry(e.function(), 0, e.flags(), 0, 1, 1 << 8, id);               // SMT: 1 thread
                case 1 -> new KvmCpuidEntry(e.function(), 1, e.flags(), coreShift, vcpus, 2 << 8 | 1, id); // cores
                default -> new KvmCpuidEntry(e.function(), e.index(), e.flags(), 0, 0, e.index(), id);   // no more levels
            };
            case 0x80000001 -> new KvmCpuidEntry(e.function(), e.index(), e.flags(), e.eax(), e.ebx(),
                    e.ecx() & ~EXT1_ECX_TOPOEXT, e.edx());
            default -> e;
        };
    }

    /** KVM_GET_SUPPORTED_CPUID, then KVM_SET_CPUID2 on {@code vcpu} with {@link #entries}. */
    public static void apply(KvmSystem kvm, KvmVcpu vcpu, int domid) {
        vcpu.setCpuid2(entries(kvm.supportedCpuid(), vcpu.id(), domid));
    }
}
