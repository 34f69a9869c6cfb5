package xen.evtchn.impl.host;

import java.util.Map;
import xen.evtchn.api.TimerProvider;

/**
 * What SCR does to the host component when a better-ranked timer provider comes and when it goes
 * (its dynamic, greedy reference), for tests that run a host without a framework. In the host's
 * package because those calls are SCR's alone.
 */
public final class TimerSwaps {
    private TimerSwaps() {
    }

    /** {@code provider} came, ranked above the one in use: every domain's timers move to it. */
    public static void arrive(HostComponent host, TimerProvider provider, String name) {
        host.bindTimers(provider, Map.of("provider.name", name));
    }

    /**
     * {@code gone} went: SCR binds the next best, {@code previous}, then unbinds the one that went
     * (a dynamic unary reference), and the timers move back.
     */
    public static void leave(HostComponent host, TimerProvider gone, TimerProvider previous, String previousName) {
        host.bindTimers(previous, Map.of("provider.name", previousName));
        host.unbindTimers(gone);
    }
}
