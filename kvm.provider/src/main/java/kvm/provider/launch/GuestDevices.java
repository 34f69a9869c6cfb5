package kvm.provider.launch;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.host.DomainHandle;

/**
 * A kernel domain's xen-bus devices, the toolstack's part (libxl's device add and remove): its
 * disks (their images were checked with the configuration, {@link PvhGuestSettings}) and its
 * consoles beside its own (device/console/1..N). The bus is required before the domain is made;
 * each device is added once the domain exists and before its vCPUs run (so that Linux's
 * frontends find them when they probe), and removed before the domain is destroyed.
 */
final class GuestDevices {
    /** The bundle that registers the {@link XenBus} service. */
    static final String BUS_BUNDLE = "xen.bus";

    private final List<DiskSpec> disks;
    private final int consoles;
    private final XenBus bus;

    /**
     * @param bus the host's XenBus, or null if none is registered
     * @throws IllegalStateException if there are devices and no bus, naming the bundle to add
     */
    GuestDevices(List<DiskSpec> disks, int consoles, XenBus bus) {
        if (bus == null && (!disks.isEmpty() || consoles > 0)) {
            String what = disks.isEmpty() ? PvhGuestSettings.CONSOLES : PvhGuestSettings.DISK;
            throw new IllegalStateException("configuration " + PvhGuestSettings.PID + ": " + what
                    + " needs the XenBus service, and none is registered: add bundle " + BUS_BUNDLE
                    + " (and the backends: xen.block for disks, xen.console for consoles) to the host");
        }
        this.disks = List.copyOf(disks);
        this.consoles = consoles;
        this.bus = bus;
    }

    /** Whether there is any device, and so a bus to ask. */
    static boolean any(PvhGuestSettings settings) {
        return !settings.disks().isEmpty() || settings.consoles() > 0;
    }

    List<DiskSpec> disks() {
        return disks;
    }

    /** A device of domain {@code domid} and how messages name it. */
    private record Named(DeviceNodes nodes, String name) {
    }

    /** Every device of domain {@code domid}: the disks, then the consoles. */
    private List<Named> devices(int domid) {
        List<Named> all = new ArrayList<>();
        for (DiskSpec disk : disks) {
            all.add(new Named(disk.nodes(domid), "disk " + disk.vdev() + " (" + disk.image() + ")"));
        }
        for (int n = 1; n <= consoles; n++) {
            all.add(new Named(DeviceNodes.console(domid, n), "console " + n));
        }
        return all;
    }

    /**
     * Adds every device to {@code domain}.
     *
     * @throws IllegalStateException naming the device the bus refused (the domain is then destroyed by the boot)
     */
    void add(DomainHandle domain) {
        for (Named device : devices(domain.domid())) {
            try {
                bus.add(device.nodes());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(device.name() + ": the bus refused it: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Removes every device of domain {@code domid} without waiting for its frontend (the domain is
     * about to be destroyed, as xl destroy does). A device the bus no longer has is skipped; other
     * failures are logged, never thrown: the domain goes anyway.
     */
    void remove(int domid, Consumer<String> log) {
        for (Named device : devices(domid)) {
            DeviceNodes nodes = device.nodes();
            try {
                bus.remove(domid, nodes.type(), nodes.devid(), 0);
            } catch (IllegalArgumentException gone) {
                // removed already, e.g. with its domain
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.accept("dom" + domid + ": removing " + device.name() + ": " + e);
            }
        }
    }
}
