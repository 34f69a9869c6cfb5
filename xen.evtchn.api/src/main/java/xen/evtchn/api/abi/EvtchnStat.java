package xen.evtchn.api.abi;

/** EVTCHNSTAT_* values returned by EVTCHNOP_status. */
public final class EvtchnStat {
    public static final int CLOSED = 0;
    public static final int UNBOUND = 1;
    public static final int INTERDOMAIN = 2;
    public static final int PIRQ = 3;
    public static final int VIRQ = 4;
    public static final int IPI = 5;

    private EvtchnStat() {
    }

    public static String name(int status) {
        return switch (status) {
            case CLOSED -> "closed";
            case UNBOUND -> "unbound";
            case INTERDOMAIN -> "interdomain";
            case PIRQ -> "pirq";
            case VIRQ -> "virq";
            case IPI -> "ipi";
            default -> "status?" + status;
        };
    }
}
