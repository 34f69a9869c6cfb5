package kvm.provider.kvm;

/** KVM_EXIT_* reasons found in kvm_run.exit_reason (the ones this layer meets so far). */
public final class KvmExit {
    public static final int UNKNOWN = 0;
    public static final int IO = 2;
    public static final int HLT = 5;
    public static final int MMIO = 6;
    public static final int SHUTDOWN = 8;
    public static final int FAIL_ENTRY = 9;
    public static final int INTR = 10;
    public static final int INTERNAL_ERROR = 17;
    public static final int X86_RDMSR = 29;
    public static final int X86_WRMSR = 30;

    /** kvm_run.io.direction. */
    public static final int IO_IN = 0;
    public static final int IO_OUT = 1;

    private KvmExit() {
    }

    /** "IO", "HLT", ... or the number for one not named here. */
    public static String name(int reason) {
        return switch (reason) {
            case UNKNOWN -> "UNKNOWN";
            case IO -> "IO";
            case HLT -> "HLT";
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
