package kvm.provider.launch;

import java.util.List;
import java.util.function.Consumer;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.host.DomainHandle;

/**
 * A kernel domain's disks on xen-bus, the toolstack's part (libxl's device add and remove): their
 * images were checked with the configuration ({@link PvhGuestSettings}); here the bus is required
 * before the domain is made, each disk is added once the domain exists and before its vCPUs run
 * (so Linux's blkfront finds it when it probes), and removed before the domain is destroyed.
 */
final class GuestDisks {
    /** The bundle that registers the {@link XenBus} service. */
    static final String BUS_BUNDLE = "xen.bus";

    private final List<DiskSpec> disks;
    private final XenBus bus;

    /**
     * @param bus the host's XenBus, or null if none is registered
     * @throws IllegalStateException if there are disks and no bus, naming the bundle to add
     */
    GuestDisks(List<DiskSpec> disks, XenBus bus) {
        if (!disks.isEmpty() && bus == null) {
            throw new IllegalStateException("configuration " + PvhGuestSettings.PID + ": " + PvhGuestSettings.DISK
                    + " needs the XenBus service, and none is registered: add bundle " + BUS_BUNDLE
                    + " (and a vbd backend, xen.block) to the host");
        }
        this.disks = List.copyOf(disks);
        this.bus = bus;
    }

    List<DiskSpec> disks() {
        return disks;
    }

    /**
     * Adds every disk to {@code domain}.
     *
     * @throws IllegalStateException naming the disk the bus refused (the domain is then destroyed by the boot)
     */
    void add(DomainHandle domain) {
        for (DiskSpec disk : disks) {
            try {
                bus.add(disk.nodes(domain.domid()));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("disk " + disk.vdev() + " (" + disk.image() + "): the bus refused it: "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * Removes every disk of domain {@code domid} without waiting for its frontend (the domain is
     * about to be destroyed, as xl destroy does). A disk the bus no longer has is skipped; other
     * failures are logged, never thrown: the domain goes anyway.
     */
    void remove(int domid, Consumer<String> log) {
        for (DiskSpec disk : disks) {
            try {
                bus.remove(domid, DiskSpec.TYPE, disk.devid(), 0);
            } catch (IllegalArgumentException gone) {
                // removed already, e.g. with its domain
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.accept("dom" + domid + ": removing disk " + disk.vdev() + ": " + e);
            }
        }
    }
}
