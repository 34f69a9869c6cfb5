package xen.console;

import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestConsole;
import xen.evtchn.api.host.GuestHost;

/**
 * The PV console backend for xen-bus consoles ({@code device/console/N}, N ≥ 1), the consoles a
 * guest has beside its own (Linux's hvc_xen frontend serves them as hvc1 and up): the frontend
 * grants a ring page like the HVM console's and writes {@code ring-ref} and {@code port}; this
 * backend serves it with the same {@link RingConsole}, against the host's end of that console
 * ({@link DomainHandle#console(int)}), which outlives any backend, so that a swap loses nothing.
 */
@Component(service = XenBusBackend.class, immediate = true)
public final class DeviceConsoleBackend implements XenBusBackend {
    /** The xen-bus device type of consoles. */
    public static final String TYPE = DeviceNodes.CONSOLE;

    private final GuestHost host;
    private final Consumer<String> log;

    @Activate
    public DeviceConsoleBackend(@Reference GuestHost host) {
        this(host, line -> System.err.println("xen.console: " + line));
    }

    /** A backend whose messages go to {@code log} (tests, embedding). */
    public DeviceConsoleBackend(GuestHost host, Consumer<String> log) {
        this.host = host;
        this.log = log;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public DeviceBackend probe(XenBusDevice device) throws XenBusException {
        if (device.devid() == 0) {
            // As Linux's xencons_probe: console 0 is the domain's own, at HVM_PARAM_CONSOLE_PFN.
            throw new XenBusException("console 0 is the domain's own console; xen-bus consoles are numbered from 1");
        }
        DomainHandle domain = host.domain(device.domid());
        if (domain == null) {
            throw new XenBusException("no domain " + device.domid());
        }
        GuestConsole console;
        try {
            console = domain.console(device.devid());
        } catch (IllegalArgumentException e) {
            throw new XenBusException(e.getMessage());
        }
        return new DeviceConsole(device, console, log);
    }
}
