package xen.block.backend;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;

/**
 * The PV block backend (Linux's xen-blkback, QEMU's xen-block): a whiteboard {@link XenBusBackend}
 * for device type {@value DiskSpec#TYPE}, serving each vbd from the raw image its {@code params}
 * names ({@link Vbd}). docs/BLOCK.md describes the protocol, the features, the checks and the
 * hand-over.
 * <p>
 * Hot-swappable: when this instance goes (its bundle updated or stopped, its configuration
 * changed) the bus hands each connected device over ({@link DeviceBackend#handOver()}), and the
 * next instance takes the ring up at the shared rsp_prod. If the bus has not done so by
 * the time this instance is deactivated (the bus itself went first), the deactivation ends the
 * devices itself after {@value #HAND_OVER_WAIT_MS} ms, so that no thread of this bundle outlives it.
 */
@Component(service = XenBusBackend.class, immediate = true, configurationPid = BlockSettings.PID)
@Designate(ocd = BlockMetatype.class)
public final class BlockBackend implements XenBusBackend, Vbd.Live {
    static final long HAND_OVER_WAIT_MS = 5000;

    private final BlockSettings settings;
    private final Consumer<String> log;
    private final Set<Vbd> connected = new HashSet<>();

    /** A bad configuration fails the activation, with a message naming the property. */
    @Activate
    public BlockBackend(Map<String, Object> configuration) {
        this(configuration, line -> System.err.println("xen.block: " + line));
    }

    /** A backend whose messages go to {@code log} (tests, embedding). */
    public BlockBackend(Map<String, ?> configuration, Consumer<String> log) {
        this.settings = BlockSettings.read(configuration);
        this.log = log;
    }

    @Override
    public String type() {
        return DiskSpec.TYPE;
    }

    @Override
    public DeviceBackend probe(XenBusDevice device) throws XenBusException {
        return Vbd.probe(device, settings, log, this);
    }

    @Override
    public synchronized void connected(Vbd vbd) {
        connected.add(vbd);
    }

    @Override
    public synchronized void ended(Vbd vbd) {
        connected.remove(vbd);
        notifyAll();
    }

    /** The devices connected now, by name (dom1-vbd-51712), for tests and tools. */
    public synchronized List<String> devices() {
        return connected.stream().map(Vbd::name).sorted().toList();
    }

    @Deactivate
    void deactivate() {
        List<Vbd> left;
        synchronized (this) {
            long deadline = System.nanoTime() + HAND_OVER_WAIT_MS * 1_000_000;
            while (!connected.isEmpty() && deadline - System.nanoTime() > 0) {
                try {
                    wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            left = List.copyOf(connected);
        }
        for (Vbd vbd : left) {
            log.accept(vbd.name() + ": not handed over by the bus; ended (its ring answered up to the last request taken)");
            vbd.end();
        }
    }
}
