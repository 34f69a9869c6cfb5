package examples.echo;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.ComponentConstants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.backend.EvtchnHost;

/**
 * A host-side backend that answers each event from a guest port with one event back, once per
 * factory configuration {@value #PID} (domid, port: a port the guest offered the host with
 * alloc_unbound). Its handle is named "echo-DOMID-PORT": when this instance goes because its
 * bundle is updated or stopped, it detaches, and the next instance of the same name takes the
 * port over with the events that came meanwhile; when its configuration is deleted it closes the
 * port.
 * <p>
 * Every event taken from the handle is answered before the loop looks at its stop flag, so an
 * instance never leaves with an event half dealt with.
 */
@Component(service = {}, immediate = true, configurationPid = EchoBackend.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = EchoConfig.class, factory = true)
public final class EchoBackend {
    public static final String PID = "xen.backend.echo";

    private final EvtchnHandle handle;
    private final Thread loop;
    private volatile boolean stopping;

    @Activate
    public EchoBackend(@Reference EvtchnHost host, Map<String, Object> configuration) throws EvtchnException {
        int domid = number(configuration, "domid", 1, 0x7FEF);
        int port = number(configuration, "port", 1, Integer.MAX_VALUE);
        String name = "echo-" + domid + "-" + port;
        handle = host.open(name);
        try {
            BackendState state = handle.state();
            if (state.binding(domid, port) == null) {
                handle.bindInterdomain(domid, port);
            }
        } catch (EvtchnException | RuntimeException e) {
            handle.close();
            throw e;
        }
        loop = Thread.ofPlatform().name(name).daemon(true).start(this::answer);
    }

    @Deactivate
    void deactivate(int reason) throws InterruptedException {
        stopping = true;
        loop.join();
        if (reason == ComponentConstants.DEACTIVATION_REASON_CONFIGURATION_DELETED
                || reason == ComponentConstants.DEACTIVATION_REASON_DISPOSED) {
            handle.close();
        } else {
            handle.detach();
        }
    }

    private void answer() {
        while (!stopping) {
            try {
                int port = handle.pending(10, TimeUnit.MILLISECONDS);
                if (port >= 0) {
                    handle.notify(port);
                    handle.unmask(port);
                }
            } catch (InterruptedException e) {
                return;
            } catch (EvtchnException e) {
                // The guest closed its end: the port is gone, and so is its event.
            }
        }
    }

    private static int number(Map<String, Object> configuration, String name, int min, int max) {
        Object value = configuration.get(name);
        try {
            long n = value instanceof Number v ? v.longValue() : Long.parseLong(String.valueOf(value).strip());
            if (n >= min && n <= max) {
                return (int) n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("configuration " + PID + ": " + name + " must be " + min + ".." + max
                + ": got " + value);
    }
}
