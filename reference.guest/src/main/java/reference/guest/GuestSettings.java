package reference.guest;

import java.time.Duration;
import java.util.Map;
import xen.evtchn.api.host.DomainConfiguration;

/**
 * A reference guest domain as its factory configuration ({@value #PID}) describes it
 * ({@link ReferenceDomainMetatype} documents it for tools):
 * <ul>
 * <li>{@code domid}: required, 1..32751
 * <li>{@code vcpus}: default {@value #DEFAULT_VCPUS}
 * <li>{@value #HZ}: ticks per second, default {@value #DEFAULT_HZ}
 * <li>{@value #SECONDS}: how long it ticks, whole seconds, default {@value #DEFAULT_SECONDS}
 * <li>{@value #IPIS}: default true: an IPI to the next vCPU every {@value #IPI_EVERY_TICKS} ticks
 * <li>{@value #FIFO_PORTS}: default 0 (the 2-level ABI); else the FIFO ABI with that many more
 * ports ({@link GuestConfig#fifoPorts})
 * <li>{@value #CONSOLE_LINES}: default 0; else the guest also prints that many numbered lines on
 * its PV console ring and echoes what is typed to it ({@link GuestConfig#consoleLines})
 * <li>{@code xen.version}: the Xen the guest sees, "major.minor", default the host's
 * </ul>
 *
 * @param domid      the domain's id
 * @param config     the guest's configuration
 * @param xenVersion the Xen version, or null for the host's default
 */
record GuestSettings(int domid, GuestConfig config, String xenVersion) {
    static final String PID = "xen.domain.reference";
    static final String HZ = "hz";
    static final String SECONDS = "seconds";
    static final String IPIS = "ipis";
    static final String FIFO_PORTS = "fifo.ports";
    static final String CONSOLE_LINES = "console.lines";

    static final int DEFAULT_VCPUS = 2;
    static final int DEFAULT_HZ = 100;
    static final int DEFAULT_SECONDS = 5;
    static final int MAX_SECONDS = 86_400;
    static final int IPI_EVERY_TICKS = 10;

    /**
     * Reads the settings.
     *
     * @throws IllegalArgumentException naming the configuration and property, for a missing domid,
     *                                  a value that is not a number or a boolean, or out of the
     *                                  guest's range
     */
    static GuestSettings from(Map<String, ?> properties) {
        DomainConfiguration c = new DomainConfiguration(PID, properties);
        int domid = c.domid();
        int vcpus = c.integer(DomainConfiguration.VCPUS, DEFAULT_VCPUS, 1, GuestMemoryMap.MAX_VCPUS);
        int hz = c.integer(HZ, DEFAULT_HZ, 1, GuestConfig.MAX_HZ);
        int seconds = c.integer(SECONDS, DEFAULT_SECONDS, 1, MAX_SECONDS);
        boolean ipis = c.bool(IPIS, true);
        int fifoPorts = c.integer(FIFO_PORTS, 0, 0, GuestConfig.MAX_FIFO_PORTS);
        int consoleLines = c.integer(CONSOLE_LINES, 0, 0, GuestConfig.MAX_CONSOLE_LINES);
        try {
            GuestConfig config = new GuestConfig(vcpus, hz, Duration.ofSeconds(seconds), ipis, IPI_EVERY_TICKS)
                    .withConsole(consoleLines);
            return new GuestSettings(domid, fifoPorts > 0 ? config.withFifo(fifoPorts) : config, c.xenVersion());
        } catch (IllegalArgumentException e) {
            throw c.refused(e.getMessage());
        }
    }
}
