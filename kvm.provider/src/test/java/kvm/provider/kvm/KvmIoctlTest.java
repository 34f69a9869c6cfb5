package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ioctl numbers, encoded from the structs' layouts, against the values of linux/kvm.h on x86-64. No KVM needed. */
class KvmIoctlTest {
    @Test
    void everyNumberIsLinuxs() {
        Map<KvmIoctl, Long> linux = new EnumMap<>(KvmIoctl.class);
        linux.put(KvmIoctl.KVM_GET_API_VERSION, 0xae00L);
        linux.put(KvmIoctl.KVM_CREATE_VM, 0xae01L);
        linux.put(KvmIoctl.KVM_CHECK_EXTENSION, 0xae03L);
        linux.put(KvmIoctl.KVM_GET_VCPU_MMAP_SIZE, 0xae04L);
        linux.put(KvmIoctl.KVM_GET_SUPPORTED_CPUID, 0xc008ae05L);
        linux.put(KvmIoctl.KVM_CREATE_VCPU, 0xae41L);
        linux.put(KvmIoctl.KVM_SET_USER_MEMORY_REGION, 0x4020ae46L);
        linux.put(KvmIoctl.KVM_SET_TSS_ADDR, 0xae47L);
        linux.put(KvmIoctl.KVM_CREATE_IRQCHIP, 0xae60L);
        linux.put(KvmIoctl.KVM_ENABLE_CAP, 0x4068aea3L);
        linux.put(KvmIoctl.KVM_SIGNAL_MSI, 0x4020aea5L);
        linux.put(KvmIoctl.KVM_X86_SET_MSR_FILTER, 0x4188aec6L);
        linux.put(KvmIoctl.KVM_RUN, 0xae80L);
        linux.put(KvmIoctl.KVM_GET_REGS, 0x8090ae81L);
        linux.put(KvmIoctl.KVM_SET_REGS, 0x4090ae82L);
        linux.put(KvmIoctl.KVM_GET_SREGS, 0x8138ae83L);
        linux.put(KvmIoctl.KVM_SET_SREGS, 0x4138ae84L);
        linux.put(KvmIoctl.KVM_INTERRUPT, 0x4004ae86L);
        linux.put(KvmIoctl.KVM_GET_MSRS, 0xc008ae88L);
        linux.put(KvmIoctl.KVM_SET_SIGNAL_MASK, 0x4004ae8bL);
        linux.put(KvmIoctl.KVM_SET_CPUID2, 0x4008ae90L);
        linux.put(KvmIoctl.KVM_SET_GUEST_DEBUG, 0x4048ae9bL);
        linux.put(KvmIoctl.KVM_GET_TSC_KHZ, 0xaea3L);
        assertEquals(KvmIoctl.values().length, linux.size(), "a value from kvm.h for every ioctl");
        for (KvmIoctl ioctl : KvmIoctl.values()) {
            assertEquals(Long.toHexString(linux.get(ioctl)), Long.toHexString(ioctl.number()), ioctl.name());
        }
    }

    @Test
    void theStructsHaveLinuxsSizes() {
        assertEquals(144, KvmRegs.LAYOUT.byteSize(), "struct kvm_regs");
        assertEquals(312, KvmSregs.LAYOUT.byteSize(), "struct kvm_sregs");
        assertEquals(24, KvmSegment.LAYOUT.byteSize(), "struct kvm_segment");
        assertEquals(16, KvmDtable.LAYOUT.byteSize(), "struct kvm_dtable");
        assertEquals(40, KvmCpuidEntry.LAYOUT.byteSize(), "struct kvm_cpuid_entry2");
    }

    @Test
    void theCapabilitiesHaveLinuxsNumbers() {
        assertEquals(3, KvmCap.USER_MEMORY.number());
        assertEquals(9, KvmCap.NR_VCPUS.number());
        assertEquals(38, KvmCap.XEN_HVM.number());
        assertEquals(66, KvmCap.MAX_VCPUS.number());
        assertEquals(74, KvmCap.SYNC_REGS.number());
        assertEquals(188, KvmCap.X86_USER_SPACE_MSR.number());
        assertEquals(189, KvmCap.X86_MSR_FILTER.number());
    }
}
