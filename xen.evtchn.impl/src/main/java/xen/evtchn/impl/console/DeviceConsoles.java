package xen.evtchn.impl.console;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import xen.evtchn.api.host.DomainConfiguration;
import xen.evtchn.api.host.GuestConsole;

/**
 * A domain's xen-bus consoles (device/console/N, N ≥ 1, which Linux's hvc_xen serves as hvc1 and
 * up): the host's end of each, made when a console backend first asks for it and kept as long as
 * the domain, so that input typed for it and output already taken survive a backend swap. Each
 * has its own line splitter, so that its lines never run into another console's; they go to the
 * domain's console lines prefixed "consoleN: ".
 */
public final class DeviceConsoles {
    /** The highest console number. */
    public static final int MAX = DomainConfiguration.MAX_CONSOLES;

    private final Consumer<String> lines;
    private final int maxLine;
    private final Map<Integer, HostConsole> consoles = new HashMap<>();

    /** Consoles whose lines, at most {@code maxLine} bytes each, go to {@code lines}. */
    public DeviceConsoles(Consumer<String> lines, int maxLine) {
        this.lines = lines;
        this.maxLine = maxLine;
    }

    /**
     * Console {@code n}, made at first use.
     *
     * @throws IllegalArgumentException unless 1 ≤ n ≤ {@link #MAX}
     */
    public synchronized GuestConsole console(int n) {
        if (n < 1 || n > MAX) {
            throw new IllegalArgumentException("console " + n + ": xen-bus consoles are 1.." + MAX + " (0 is the domain's own)");
        }
        return consoles.computeIfAbsent(n,
                k -> new HostConsole(new PrefixedLineSink(new ConsoleLines(lines, maxLine), "console" + k + ": ")));
    }
}
