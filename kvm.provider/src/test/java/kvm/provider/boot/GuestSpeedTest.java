package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import kvm.provider.kvm.KvmSystem;
import org.junit.jupiter.api.Test;

class GuestSpeedTest {
    @Test
    void theLoopCountsDownFromItsImmediate() {
        byte[] code = GuestSpeed.loop(0x01020304);
        assertEquals((byte) 0xb9, code[0], "mov ecx, imm32");
        assertEquals(0x04, code[1]);
        assertEquals(0x01, code[4]);
        assertEquals((byte) 0xfb, code[9], "jnz back to dec rcx");
        assertEquals((byte) 0xf4, code[code.length - 1], "hlt");
    }

    @Test
    void aKvmIsEitherFastOrNamedAsEmulating() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
        double ns = GuestSpeed.nanosPerIteration();
        assertTrue(ns > 0, "an iteration took " + ns + " ns");
        String reason = GuestSpeed.emulationReason();
        // Two timings: only clear cases are judged (hardware is under 1 ns, kvm_pvm's emulation about 1000).
        if (ns < GuestSpeed.EMULATED_NS / 4) {
            assertNull(reason, () -> ns + " ns an iteration, yet: " + reason);
        } else if (ns > GuestSpeed.EMULATED_NS * 4) {
            assertNotNull(reason, () -> ns + " ns an iteration: emulated, yet no reason");
        }
        if (new File("/sys/module/kvm_pvm").isDirectory()) {
            assertTrue(reason != null && reason.contains("emulates"), "kvm_pvm emulates a guest that is not a PVM kernel: " + reason);
        }
    }
}
