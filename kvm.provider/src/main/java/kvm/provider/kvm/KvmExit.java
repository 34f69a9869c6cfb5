package kvm.provider.kvm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Why {@link KvmVcpu#run()} returned: kvm_run.exit_reason with the members of kvm_run's exit union
 * that go with it (rust-vmm's {@code VcpuExit}), for the exits this layer meets; any other reason
 * is an {@link Other}. Data that the host answers in place (an IN's bytes, an MMIO read's) is a
 * live slice of kvm_run, valid until the next {@link KvmVcpu#run()}.
 */
public sealed interface KvmExit {
    // KVM_EXIT_* (linux/kvm.h)
    int UNKNOWN = 0;
    int IO = 2;
    int DEBUG = 4;
    int HLT = 5;
    int MMIO = 6;
    int IRQ_WINDOW_OPEN = 7;
    int SHUTDOWN = 8;
    int FAIL_ENTRY = 9;
    int INTR = 10;
    int INTERNAL_ERROR = 17;
    int X86_RDMSR = 29;
    int X86_WRMSR = 30;

    /** KVM_MSR_EXIT_REASON_INVAL: an access KVM would have answered with #GP. */
    int MSR_REASON_INVAL = 1;
    /** KVM_MSR_EXIT_REASON_UNKNOWN: an MSR KVM does not know. */
    int MSR_REASON_UNKNOWN = 1 << 1;
    /** KVM_MSR_EXIT_REASON_FILTER: an access denied by KVM_X86_SET_MSR_FILTER. */
    int MSR_REASON_FILTER = 1 << 2;

    /** KVM_EXIT_HLT (no in-kernel irqchip). */
    Hlt HALT = new Hlt();
    /** KVM_EXIT_IRQ_WINDOW_OPEN. */
    IrqWindowOpen IRQ_WINDOW = new IrqWindowOpen();
    /** KVM_EXIT_SHUTDOWN (a triple fault). */
    Shutdown TRIPLE_FAULT = new Shutdown();
    /** KVM_RUN returned EINTR (a signal) or EAGAIN (an AP that got INIT/SIPI): run again. */
    Interrupted INTERRUPTED = new Interrupted();

    /**
     * KVM_EXIT_IO: {@code count} accesses of {@code size} bytes to {@code port}; {@code data} is
     * their bytes inside kvm_run (size × count): read for an OUT, to be written for an IN.
     */
    record Io(int direction, int size, int port, int count, MemorySegment data) implements KvmExit {
        /** kvm_run.io.direction. */
        public static final int IN = 0;
        public static final int OUT = 1;

        public boolean isOut() {
            return direction == OUT;
        }
    }

    /** KVM_EXIT_MMIO: {@code data} is the access's bytes inside kvm_run (at most 8): to fill for a read. */
    record Mmio(long physAddr, MemorySegment data, boolean isWrite) implements KvmExit {
    }

    /** KVM_EXIT_DEBUG: the guest stopped at {@code pc} with {@code exception} (1, #DB, for a hardware breakpoint). */
    record Debug(int exception, long pc) implements KvmExit {
    }

    /** KVM_EXIT_X86_RDMSR of MSR {@code index}: why it exited ({@code MSR_REASON_*}); {@link KvmVcpu#completeRdmsr} answers it. */
    record RdMsr(int reason, int index) implements KvmExit {
    }

    /** KVM_EXIT_X86_WRMSR of {@code data} (edx:eax) to MSR {@code index}; {@link KvmVcpu#completeMsr} answers it. */
    record WrMsr(int reason, int index, long data) implements KvmExit {
    }

    record Hlt() implements KvmExit {
    }

    record IrqWindowOpen() implements KvmExit {
    }

    record Shutdown() implements KvmExit {
    }

    record Interrupted() implements KvmExit {
    }

    /** KVM_EXIT_FAIL_ENTRY: the hardware refused to enter the guest, for {@code hardwareReason}. */
    record FailEntry(long hardwareReason) implements KvmExit {
    }

    /** KVM_EXIT_INTERNAL_ERROR with kvm_run.internal.suberror (KVM_INTERNAL_ERROR_*). */
    record InternalError(int suberror) implements KvmExit {
        public static final int EMULATION = 1;
        public static final int SIMUL_EX = 2;
        public static final int DELIVERY_EV = 3;
        public static final int UNEXPECTED_EXIT_REASON = 4;

        /** What the suberror means. */
        public String describe() {
            return switch (suberror) {
                case EMULATION -> "instruction emulation failed";
                case SIMUL_EX -> "exception while delivering an exception (e.g. a bad IDT)";
                case DELIVERY_EV -> "event delivery failed";
                case UNEXPECTED_EXIT_REASON -> "unexpected exit reason";
                default -> "suberror " + suberror;
            };
        }
    }

    /** An exit reason this layer does not decode. */
    record Other(int reason) implements KvmExit {
        /** "UNKNOWN" (KVM_EXIT_UNKNOWN) or the number. */
        public String name() {
            return reason == UNKNOWN ? "UNKNOWN" : Integer.toString(reason);
        }
    }

    /** The exit that {@code run} (a kvm_run, as mapped from a vCPU fd) describes. */
    static KvmExit decode(MemorySegment run) {
        int reason = run.get(ValueLayout.JAVA_INT, KvmRun.EXIT_REASON);
        return switch (reason) {
            case IO -> {
                int size = Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, KvmRun.IO_SIZE));
                int count = run.get(ValueLayout.JAVA_INT, KvmRun.IO_COUNT);
                long at = run.get(ValueLayout.JAVA_LONG, KvmRun.IO_DATA_OFFSET);
                yield new Io(Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, KvmRun.IO_DIRECTION)), size,
                        Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT, KvmRun.IO_PORT)), count,
                        run.asSlice(at, (long) size * count));
            }
            case MMIO -> {
                int len = Math.clamp(run.get(ValueLayout.JAVA_INT, KvmRun.MMIO_LEN), 0, 8);
                yield new Mmio(run.get(ValueLayout.JAVA_LONG, KvmRun.MMIO_PHYS_ADDR), run.asSlice(KvmRun.MMIO_DATA, len),
                        run.get(ValueLayout.JAVA_BYTE, KvmRun.MMIO_IS_WRITE) != 0);
            }
            case DEBUG -> new Debug(run.get(ValueLayout.JAVA_INT, KvmRun.DEBUG_EXCEPTION),
                    run.get(ValueLayout.JAVA_LONG, KvmRun.DEBUG_PC));
            case X86_RDMSR -> new RdMsr(run.get(ValueLayout.JAVA_INT, KvmRun.MSR_REASON),
                    run.get(ValueLayout.JAVA_INT, KvmRun.MSR_INDEX));
            case X86_WRMSR -> new WrMsr(run.get(ValueLayout.JAVA_INT, KvmRun.MSR_REASON),
                    run.get(ValueLayout.JAVA_INT, KvmRun.MSR_INDEX), run.get(ValueLayout.JAVA_LONG, KvmRun.MSR_DATA));
            case HLT -> HALT;
            case IRQ_WINDOW_OPEN -> IRQ_WINDOW;
            case SHUTDOWN -> TRIPLE_FAULT;
            case INTR -> INTERRUPTED;
            case FAIL_ENTRY -> new FailEntry(run.get(ValueLayout.JAVA_LONG, KvmRun.FAIL_ENTRY_REASON));
            case INTERNAL_ERROR -> new InternalError(run.get(ValueLayout.JAVA_INT, KvmRun.INTERNAL_SUBERROR));
            default -> new Other(reason);
        };
    }
}
