package kvm.provider.boot;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static kvm.provider.kvm.KvmTestSupport.expectOut;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSregs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.kvm.KvmVm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A vCPU put into 64-bit mode by {@link LongMode}. Skipped where /dev/kvm is unusable. */
public class KvmLongModeTest {
    public static final long RAM_SIZE = 2L << 20;
    public static final long CODE = 0x1000;
    public static final long TABLES = 0x10000;
    public static final long STACK_TOP = 0x8000;

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    @Test
    void outThenHltIn64BitMode() {
        // mov eax, 0x1234; out 0xe9, eax; hlt
        byte[] guest = bytes(0xb8, 0x34, 0x12, 0x00, 0x00, 0xe7, 0xe9, 0xf4);
        runGuest(guest, vcpu -> {
            expectOut(vcpu, 0xe9, 0x1234);
            expectHlt(vcpu);
            assertEquals(CODE + guest.length, vcpu.getRegs().rip(), "rip after hlt");
            KvmSregs s = vcpu.getSregs();
            assertEquals(1, s.cs().l(), "cs.l");
            assertEquals(LongMode.EFER_LME | LongMode.EFER_LMA, s.efer() & (LongMode.EFER_LME | LongMode.EFER_LMA));
        });
    }

    @Test
    void a64BitOnlyInstructionWorks() {
        // mov rax, 0x1122334455667788; mov rbx, rax; hlt
        byte[] guest = bytes(0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0x89, 0xc3, 0xf4);
        runGuest(guest, vcpu -> {
            expectHlt(vcpu);
            assertEquals(0x1122334455667788L, vcpu.getRegs().rbx(), "rbx");
        });
    }

    public interface GuestCheck {
        void check(KvmVcpu vcpu);
    }

    /** A 64-bit guest running {@code code} at {@link #CODE} in {@link #RAM_SIZE} of RAM, set up by LongMode. */
    public static void runGuest(byte[] code, GuestCheck check) {
        runGuest(code, (vm, vcpu, ram) -> check.check(vcpu), vm -> { }, vcpu -> { });
    }

    public interface VmCheck {
        void check(KvmVm vm, KvmVcpu vcpu, MemorySegment ram);
    }

    public interface Setup<T> {
        void setUp(T target);
    }

    /** As above, with hooks to set up the VM (before the vCPU is created) and the vCPU (before it runs). */
    public static void runGuest(byte[] code, VmCheck check, Setup<KvmVm> vmSetup, Setup<KvmVcpu> vcpuSetup) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
            MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, CODE, code.length);
            try (KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm()) {
                vm.setTssAddr(0xfffbd000L);
                vm.setUserMemoryRegion(0, 0, ram);
                vmSetup.setUp(vm);
                try (KvmVcpu vcpu = vm.createVcpu(0)) {
                    vcpuSetup.setUp(vcpu);
                    LongMode.enter(vcpu, ram, TABLES);
                    vcpu.setRegs(KvmRegs.initial().withRip(CODE).withRsp(STACK_TOP));
                    check.check(vm, vcpu, ram);
                }
            }
        }
    }
}
