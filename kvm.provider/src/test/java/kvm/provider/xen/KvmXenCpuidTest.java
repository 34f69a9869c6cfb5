package kvm.provider.xen;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import kvm.provider.boot.KvmLongModeTest;
import kvm.provider.kvm.KvmCpuidEntry;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A 64-bit guest's cpuid sees Xen's leaves, not KVM's. Skipped where /dev/kvm is unusable. */
class KvmXenCpuidTest {
    private static final int DOMID = 7;
    /** cpuid; hlt */
    private static final byte[] GUEST = bytes(0x0f, 0xa2, 0xf4);

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    @Test
    void kvmOffersCpuidLeavesIncludingItsOwnHypervisorLeaf() {
        try (KvmSystem kvm = KvmSystem.open()) {
            List<KvmCpuidEntry> supported = kvm.supportedCpuid();
            assertTrue(supported.stream().anyMatch(e -> e.function() == 0), "leaf 0 in " + supported);
            assertTrue(supported.stream().anyMatch(e -> e.function() == XenCpuid.BASE), "KVM's own 0x40000000");
            List<KvmCpuidEntry> xen = XenCpuid.entries(supported, 0, DOMID);
            List<KvmCpuidEntry> base = xen.stream().filter(e -> e.function() == XenCpuid.BASE).toList();
            assertEquals(1, base.size(), "one 0x40000000 leaf: " + base);
            assertEquals(0x566e6558, base.getFirst().ebx(), "\"XenV\"");
            assertFalse(xen.stream().anyMatch(e -> e.function() == XenCpuid.BASE + 0x100), "no 0x40000100 leaf");
        }
    }

    @Test
    void guestCpuidFindsXen() {
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            KvmRegs r = cpuid(vcpu, XenCpuid.BASE);
            assertEquals(XenCpuid.HVM_LEAF, (int) r.rax(), "highest leaf");
            ByteBuffer sig = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            sig.putInt((int) r.rbx()).putInt((int) r.rcx()).putInt((int) r.rdx());
            assertEquals("XenVMMXenVMM", new String(sig.array(), StandardCharsets.US_ASCII));

            assertEquals(4 << 16 | 17, (int) cpuid(vcpu, XenCpuid.VERSION_LEAF).rax(), "version 4.17");

            KvmRegs hc = cpuid(vcpu, XenCpuid.HYPERCALL_LEAF);
            assertEquals(1, (int) hc.rax(), "hypercall pages");
            assertEquals(0x40000000, (int) hc.rbx(), "hypercall MSR");

            KvmRegs hvm = cpuid(vcpu, XenCpuid.HVM_LEAF);
            assertEquals(XenCpuid.HVM_VCPU_ID_PRESENT | XenCpuid.HVM_DOMID_PRESENT, (int) hvm.rax(), "HVM features");
            assertEquals(vcpu.id(), (int) hvm.rbx(), "vcpu id");
            assertEquals(DOMID, (int) hvm.rcx(), "domid");
        }, vm -> { }, vcpu -> {
            try (KvmSystem kvm = KvmSystem.open()) {
                XenCpuid.apply(kvm, vcpu, DOMID);
            }
        });
    }

    @Test
    void guestLeafOneIsTheVcpusOwn() {
        KvmLongModeTest.runGuest(GUEST, (vm, vcpu, ram) -> {
            KvmRegs r = cpuid(vcpu, 1);
            assertEquals(XenCpuid.CPUID1_ECX_HYPERVISOR, (int) r.rcx() & XenCpuid.CPUID1_ECX_HYPERVISOR, "hypervisor bit");
            assertEquals(vcpu.id(), (int) (r.rbx() >>> 24) & 0xff, "initial APIC ID");
        }, vm -> { }, vcpu -> {
            try (KvmSystem kvm = KvmSystem.open()) {
                XenCpuid.apply(kvm, vcpu, DOMID);
            }
        });
    }

    /** Runs the guest's cpuid; hlt from the start with eax = leaf, ecx = 0; the registers at hlt. */
    private static KvmRegs cpuid(KvmVcpu vcpu, int leaf) {
        vcpu.setRegs(KvmRegs.initial().withRax(leaf).withRip(KvmLongModeTest.CODE).withRsp(KvmLongModeTest.STACK_TOP));
        expectHlt(vcpu);
        return vcpu.getRegs();
    }
}
