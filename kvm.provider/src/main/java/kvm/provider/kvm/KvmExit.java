package kvm.provider.kvm;

/** KVM_EXIT_* reasons found in kvm_run.exit_reason (the ones this layer meets so far). */
public final class KvmExit {
    public static final int UNKNOWN = 0;
    public static final int IO = 2;
    public static final int DEBUG = 4;
    public static final int HLT = 5;
    public static final int IRQ_WINDOW_OPEN = 7;
    public static final int MMIO = 6;
    public static final int SHUTDOWN = 8;
    public static final int FAIL_ENTRY = 9;
    public static final int INTR = 10;
    public static final int INTERNAL_ERROR = 17;
    public static final int X86_RDMSR = 29;
    public static final int X86_WRMSR = 30;

    /** kvm_run.internal.suberror values (KVM_INTERNAL_ERROR_*). */
    public static final int INTERNAL_EMULATION = 1;
    public static final int INTERNAL_SIMUL_EX = 2;
    public static final int INTERNAL_DELIVERY_EV = 3;
    public static final int INTERNAL_UNEXPECTED_EXIT_REASON = 4;

    /** kvm_run.io.direction. */
    public static final int IO_IN = 0;
    public static final int IO_OUT = 1;

    private KvmExit() {
    }

    /** What a KVM_EXIT_INTERNAL_ERROR suberror means. */
    public static String internalError(int suberror) {
        return switch (suberror) {
            case INTERNAL_EMULATION -> "instruction emulation failed";
            case INTERNAL_SIMUL_EX -> "exception while delivering an exception (e.g. a bad IDT)";
            case INTERNAL_DELIVERY_EV -> "event delivery failed";
            case INTERNAL_UNEXPECTED_EXIT_REASON -> "unexpected exit reason";
            default -> "suberror " + suberror;
        };
    }

    /** "IO", "HLT", ... or the number for one not named here. */
    public static String name(int reason) {
        return switch (reason) {
            case UNKNOWN -> "UNKNOWN";
            case IO -> "IO";
            case DEBUG -> "DEBUG";
            case HLT -> "HLT";
            case IRQ_WINDOW_OPEN -> "IRQ_WINDOW_OPEN";
            case MMIO -> "MMIO";
            case SHUTDOWN -> "SHUTDOWN";
            case FAIL_ENTRY -> "FAIL_ENTRY";
            case INTR -> "INTR";
            case INTERNAL_ERROR -> "INTERNAL_ERROR";
            case X86_RDMSR -> "X86_RDMSR";
            case X86_WRMSR -> "X86_WRMSR";
            default -> Integer.toString(reason);
        };
    }
}
