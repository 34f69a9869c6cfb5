package kvm.provider.kvm;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static kvm.provider.kvm.KvmTestSupport.expectHlt;
import static kvm.provider.kvm.KvmTestSupport.expectOut;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real guest: 32-bit flat protected mode, paging off, two OUTs and a HLT. Skipped where /dev/kvm is unusable. */
class KvmVcpuTest {
    private static final long RAM_SIZE = 2L << 20;
    private static final long CODE = 0x1000;
    private static final int PORT = 0xe9;
    /** mov eax, 0x1234; out 0xe9, eax; mov eax, 0x5678; out 0xe9, eax; hlt */
    private static final byte[] GUEST = bytes(0xb8, 0x34, 0x12, 0x00, 0x00, 0xe7, 0xe9, 0xb8, 0x78, 0x56, 0x00, 0x00,
            0xe7, 0xe9, 0xf4);

    @BeforeEach
    void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    @Test
    void flat32BitGuestExitsOnTwoOutsThenHalts() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
            MemorySegment.copy(MemorySegment.ofArray(GUEST), 0, ram, CODE, GUEST.length);
            try (KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm()) {
                vm.setTssAddr(0xfffbd000L);
                vm.setUserMemoryRegion(0, 0, ram);
                try (KvmVcpu vcpu = vm.createVcpu(0)) {
                    vcpu.setSregs(vcpu.getSregs()
                            .withSegments(KvmSegment.flat32(0x8, 11), KvmSegment.flat32(0x10, 3))
                            .withCr0(1));
                    vcpu.setRegs(KvmRegs.initial().withRip(CODE).withRsp(RAM_SIZE));

                    expectOut(vcpu, PORT, 0x1234);
                    expectOut(vcpu, PORT, 0x5678);
                    expectHlt(vcpu);
                    assertEquals(CODE + GUEST.length, vcpu.getRegs().rip(), "rip after hlt");
                }
            }
        }
    }
}
