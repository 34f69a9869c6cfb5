package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import kvm.provider.os.NativeCallException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /dev/kvm itself: API version, capabilities, errors as NativeCallException. Skipped where /dev/kvm is unusable. */
class KvmSystemTest {
    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    @Test
    void speaksApiVersion12AndHasUserMemory() {
        try (KvmSystem kvm = KvmSystem.open()) {
            assertEquals(12, kvm.apiVersion());
            assertTrue(kvm.checkExtension(KvmCap.USER_MEMORY) > 0, "KVM_CAP_USER_MEMORY");
            int runSize = kvm.vcpuMmapSize();
            assertTrue(runSize >= 2352, "vcpu mmap size " + runSize);
        }
    }

    @Test
    void answersTheXenCapability() {
        try (KvmSystem kvm = KvmSystem.open()) {
            int xen = kvm.checkExtension(KvmCap.XEN_HVM);
            System.out.println("KVM_CAP_XEN_HVM = " + xen);
            assertTrue(xen >= 0, "KVM_CAP_XEN_HVM " + xen);
        }
    }

    @Test
    void aFailedIoctlIsANativeCallExceptionNamingTheIoctlAndErrno() {
        try (KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm(); KvmVcpu vcpu = vm.createVcpu(0)) {
            NativeCallException e = assertThrows(NativeCallException.class, () -> vm.createVcpu(0));
            assertEquals("KVM_CREATE_VCPU failed: EEXIST", e.getMessage());
            assertEquals("KVM_CREATE_VCPU", e.call());
            assertEquals(17, e.errno());
            assertEquals(0, vcpu.id());
        }
    }

    @Test
    void registersRoundTrip() {
        try (KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm(); KvmVcpu vcpu = vm.createVcpu(0)) {
            KvmRegs regs = KvmRegs.initial().withRax(0x1122334455667788L).withRsp(0x8000).withRip(0x1000);
            vcpu.setRegs(regs);
            assertEquals(regs, vcpu.getRegs());
            KvmSregs sregs = vcpu.getSregs();
            vcpu.setSregs(sregs);
            assertEquals(sregs, vcpu.getSregs());
        }
    }
}
