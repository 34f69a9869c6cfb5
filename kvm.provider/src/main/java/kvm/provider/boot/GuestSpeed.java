package kvm.provider.boot;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import kvm.provider.kvm.KvmExit;
import kvm.provider.kvm.KvmRegs;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.kvm.KvmVcpu;
import kvm.provider.kvm.KvmVm;

/**
 * Whether this host's KVM runs guest code on the CPU or emulates it instruction by instruction,
 * timed on a loop in a 64-bit guest. A hardware KVM runs an iteration in under a nanosecond;
 * kvm_pvm, the software KVM of some hosts, emulates a guest that is not a PVM kernel at about a
 * microsecond an iteration, and its emulator lacks instructions a Linux kernel uses (see
 * docs/LINUX.md). Small guests are fine there; a distribution kernel is not.
 */
public final class GuestSpeed {
    /** Loop iterations timed: a few milliseconds at most on hardware, a quarter second emulated. */
    static final int LOOPS = 200_000;
    /** Above this many nanoseconds an iteration, the guest's code is emulated, not run. */
    static final double EMULATED_NS = 50;

    private static final long CODE = 0x1000;
    private static final long TABLES = 0x10000;
    private static final long RAM = 2L << 20;
    private static String reason;
    private static boolean probed;

    private GuestSpeed() {
    }

    /** mov ecx, LOOPS; loop: dec rcx; jnz loop; hlt */
    static byte[] loop(int n) {
        return new byte[] {(byte) 0xb9, (byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24),
            0x48, (byte) 0xff, (byte) 0xc9, 0x75, (byte) 0xfb, (byte) 0xf4};
    }

    /** Nanoseconds a loop iteration takes in a guest on this host's KVM (entry and exit included). */
    public static double nanosPerIteration() {
        try (Arena arena = Arena.ofConfined(); KvmSystem kvm = KvmSystem.open(); KvmVm vm = kvm.createVm()) {
            MemorySegment ram = arena.allocate(RAM, 4096);
            byte[] code = loop(LOOPS);
            MemorySegment.copy(MemorySegment.ofArray(code), 0, ram, CODE, code.length);
            vm.setTssAddr(0xfffbd000L);
            vm.setUserMemoryRegion(0, 0, ram);
            try (KvmVcpu vcpu = vm.createVcpu(0)) {
                LongMode.enter(vcpu, ram, TABLES);
                vcpu.setRegs(KvmRegs.initial().withRip(CODE).withRsp(CODE));
                long start = System.nanoTime();
                KvmExit exit = vcpu.run();
                long took = System.nanoTime() - start;
                if (!(exit instanceof KvmExit.Hlt)) {
                    throw new IllegalStateException("the timing guest ended with " + exit + ", not hlt");
                }
                return (double) took / LOOPS;
            }
        }
    }

    /**
     * Null if this host's KVM runs guest code on the CPU, else why a distribution kernel will not
     * run here (KVM unusable, or its code emulated). Probed once.
     */
    public static synchronized String emulationReason() {
        if (!probed) {
            String why = KvmSystem.unavailableReason();
            if (why == null) {
                double ns = nanosPerIteration();
                if (ns > EMULATED_NS) {
                    why = String.format(Locale.ROOT, "this KVM emulates guest code instead of running it (%.0f ns a loop"
                            + " iteration; a hardware KVM takes under 1 ns): a Linux kernel would take hours to boot, and"
                            + " kvm_pvm's emulator stops it at instructions it lacks (docs/LINUX.md)", ns);
                }
            } else {
                why = "KVM not usable here: " + why;
            }
            reason = why;
            probed = true;
        }
        return reason;
    }
}
