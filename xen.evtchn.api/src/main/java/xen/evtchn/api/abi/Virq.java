package xen.evtchn.api.abi;

/** The VIRQs of x86 Xen (xen.h), with their kind. Number 5 is unused. */
public enum Virq {
    TIMER(0, VirqKind.PER_VCPU),
    DEBUG(1, VirqKind.PER_VCPU),
    CONSOLE(2, VirqKind.GLOBAL),
    DOM_EXC(3, VirqKind.GLOBAL),
    TBUF(4, VirqKind.GLOBAL),
    DEBUGGER(6, VirqKind.GLOBAL),
    XENOPROF(7, VirqKind.PER_VCPU),
    CON_RING(8, VirqKind.GLOBAL),
    PCPU_STATE(9, VirqKind.GLOBAL),
    MEM_EVENT(10, VirqKind.GLOBAL),
    ARGO(11, VirqKind.PER_DOMAIN),
    ENOMEM(12, VirqKind.GLOBAL),
    XENPMU(13, VirqKind.PER_VCPU),
    ARCH_0(16, VirqKind.GLOBAL),
    ARCH_1(17, VirqKind.GLOBAL),
    ARCH_2(18, VirqKind.GLOBAL),
    ARCH_3(19, VirqKind.GLOBAL),
    ARCH_4(20, VirqKind.GLOBAL),
    ARCH_5(21, VirqKind.GLOBAL),
    ARCH_6(22, VirqKind.GLOBAL),
    ARCH_7(23, VirqKind.GLOBAL);

    /** NR_VIRQS: valid VIRQ numbers are below this. */
    public static final int COUNT = 24;

    private static final Virq[] BY_NUMBER = new Virq[COUNT];

    static {
        for (Virq v : values()) {
            BY_NUMBER[v.number] = v;
        }
    }

    private final int number;
    private final VirqKind kind;

    Virq(int number, VirqKind kind) {
        this.number = number;
        this.kind = kind;
    }

    public int number() {
        return number;
    }

    public VirqKind kind() {
        return kind;
    }

    /**
     * The kind of VIRQ number {@code virq} (0 ≤ virq &lt; {@link #COUNT}). Unassigned numbers
     * (5, 14, 15) are treated as global, as Xen does for every VIRQ it does not list as per-vCPU.
     */
    public static VirqKind kindOf(int virq) {
        Virq v = BY_NUMBER[virq];
        return v == null ? VirqKind.GLOBAL : v.kind;
    }

    /** The VIRQ with this number, or null for an unassigned or out-of-range number. */
    public static Virq of(int virq) {
        return virq >= 0 && virq < COUNT ? BY_NUMBER[virq] : null;
    }
}
