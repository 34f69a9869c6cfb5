package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;

/** Helpers shared by the guest tests: machine code as bytes, exit expectations, exit descriptions. */
public final class KvmTestSupport {
    private KvmTestSupport() {
    }

    public static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** Runs the vCPU and expects a 4-byte OUT of {@code value} to {@code port}; the exit. */
    public static KvmExit.Io expectOut(KvmVcpu vcpu, int port, int value) {
        KvmExit exit = vcpu.run();
        KvmExit.Io io = assertInstanceOf(KvmExit.Io.class, exit, () -> describe(vcpu, exit));
        assertTrue(io.isOut(), () -> "direction of " + io);
        assertEquals(4, io.size(), () -> "size of " + io);
        assertEquals(port, io.port(), () -> "port of " + io);
        assertEquals(1, io.count(), () -> "count of " + io);
        int data = io.data().get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        assertEquals(value, data, () -> "data of " + io);
        return io;
    }

    /** Runs the vCPU and expects it to halt. */
    public static void expectHlt(KvmVcpu vcpu) {
        KvmExit exit = vcpu.run();
        assertInstanceOf(KvmExit.Hlt.class, exit, () -> describe(vcpu, exit));
    }

    /** Runs the vCPU and expects {@code type} of exit; the exit. */
    public static <T extends KvmExit> T expectExit(KvmVcpu vcpu, Class<T> type) {
        KvmExit exit = vcpu.run();
        return assertInstanceOf(type, exit, () -> describe(vcpu, exit));
    }

    /** The exit (its record shows the fail-entry reason or internal suberror) and rip. */
    public static String describe(KvmVcpu vcpu, KvmExit exit) {
        String rip;
        try {
            rip = "0x" + Long.toHexString(vcpu.getRegs().rip());
        } catch (RuntimeException e) {
            rip = "? (" + e.getMessage() + ")";
        }
        return "exit " + exit + " at rip " + rip;
    }
}
