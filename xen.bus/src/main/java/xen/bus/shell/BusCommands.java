package xen.bus.shell;

import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceStatus;
import xen.evtchn.api.bus.XenBus;

/**
 * The xen-bus command, scope xen: {@code xen:devices} lists every device as xl's block-list and
 * network-list do, with both ends' states by name, whether a backend serves it and its error. As
 * the host's other xen:* commands, it goes through {@link #_main} and returns its text for Gogo to
 * print; a wrong argument throws IllegalArgumentException, whose message Gogo prints.
 */
@Component(service = BusCommands.class, immediate = true, property = {
    "osgi.command.scope=xen", "osgi.command.function=devices"})
public final class BusCommands {
    private final XenBus bus;

    @Activate
    public BusCommands(@Reference XenBus bus) {
        this.bus = bus;
    }

    /** Gogo's entry for every function of this service: {@code argv[0]} is the command's name. */
    public String _main(String... argv) {
        String command = argv.length == 0 ? "" : argv[0];
        return switch (command) {
            case "devices" -> argv.length == 1 ? devices() : usage("devices");
            default -> throw new IllegalArgumentException("no command xen:" + command);
        };
    }

    private static String usage(String usage) {
        throw new IllegalArgumentException("usage: xen:" + usage);
    }

    /** One line per device, under a header; "no devices" if there is none. */
    String devices() {
        List<DeviceStatus> all = bus.devices();
        if (all.isEmpty()) {
            return "no devices\n";
        }
        StringBuilder out = new StringBuilder(String.format("%-6s %-8s %-10s %-13s %-13s %-6s %s%n",
                "domid", "type", "devid", "backend", "frontend", "served", "error"));
        for (DeviceStatus d : all) {
            out.append(String.format("%-6d %-8s %-10d %-13s %-13s %-6s %s%n", d.domid(), d.type(), d.devid(),
                    state(d.backendState()), state(d.frontendState()), d.served() ? "yes" : "no",
                    d.error() == null ? "" : d.error()));
        }
        return out.toString();
    }

    private static String state(int state) {
        return state < 0 ? "-" : XenbusState.name(state);
    }
}
