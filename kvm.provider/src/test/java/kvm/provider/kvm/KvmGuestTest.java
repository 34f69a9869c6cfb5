package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real guest: 32-bit flat protected mode, paging off, two OUTs and a HLT. Skipped where /dev/kvm is unusable. */
class KvmGuestTest {
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

                    expectOut(vcpu, 0x1234);
                    expectOut(vcpu, 0x5678);
                    int reason = vcpu.run();
                    assertEquals(KvmExit.HLT, reason, () -> describe(vcpu, reason));
                    assertEquals(CODE + GUEST.length, vcpu.getRegs().rip(), "rip after hlt");
                }
            }
        }
    }

    private static void expectOut(KvmVcpu vcpu, int value) {
        int reason = vcpu.run();
        assertEquals(KvmExit.IO, reason, () -> describe(vcpu, reason));
        KvmIoExit io = vcpu.ioExit();
        assertEquals(KvmExit.IO_OUT, io.direction(), () -> "direction of " + io);
        assertEquals(4, io.size(), () -> "size of " + io);
        assertEquals(PORT, io.port(), () -> "port of " + io);
        assertEquals(1, io.count(), () -> "count of " + io);
        int data = vcpu.kvmRun().get(ValueLayout.JAVA_INT_UNALIGNED, io.dataOffset());
        assertEquals(value, data, () -> "data of " + io);
    }

    private static String describe(KvmVcpu vcpu, int reason) {
        String rip;
        try {
            rip = "0x" + Long.toHexString(vcpu.getRegs().rip());
        } catch (RuntimeException e) {
            rip = "? (" + e.getMessage() + ")";
        }
        // For FAIL_ENTRY the hardware reason is a u64 @32; for INTERNAL_ERROR the suberror is a u32 @32.
        long detail = vcpu.kvmRun().get(ValueLayout.JAVA_LONG, 32);
        return "exit " + KvmExit.name(reason) + " (" + reason + ") at rip " + rip + ", kvm_run@32 = 0x"
                + Long.toHexString(detail);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
