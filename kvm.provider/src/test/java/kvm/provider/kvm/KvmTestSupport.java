package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.ValueLayout;

/** Helpers shared by the guest tests: machine code as bytes, exit expectations, exit descriptions. */
final class KvmTestSupport {
    private KvmTestSupport() {
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** Runs the vCPU and expects a 4-byte OUT of {@code value} to {@code port}. */
    static void expectOut(KvmVcpu vcpu, int port, int value) {
        int reason = vcpu.run();
        assertEquals(KvmExit.IO, reason, () -> describe(vcpu, reason));
        KvmIoExit io = vcpu.ioExit();
        assertEquals(KvmExit.IO_OUT, io.direction(), () -> "direction of " + io);
        assertEquals(4, io.size(), () -> "size of " + io);
        assertEquals(port, io.port(), () -> "port of " + io);
        assertEquals(1, io.count(), () -> "count of " + io);
        int data = vcpu.kvmRun().get(ValueLayout.JAVA_INT_UNALIGNED, io.dataOffset());
        assertEquals(value, data, () -> "data of " + io);
    }

    /** Runs the vCPU and expects it to halt. */
    static void expectHlt(KvmVcpu vcpu) {
        int reason = vcpu.run();
        assertEquals(KvmExit.HLT, reason, () -> describe(vcpu, reason));
    }

    static String describe(KvmVcpu vcpu, int reason) {
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
}
