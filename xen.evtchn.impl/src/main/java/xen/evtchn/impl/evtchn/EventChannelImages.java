package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.UpcallRoute;
import xen.evtchn.api.abi.EvtchnFifo;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.impl.delivery.Fifo;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.delivery.VcpuInfos;
import xen.evtchn.impl.port.PortEntry;

/**
 * A guest's event channels to and from their {@link EventChannelImage}: the save side, and the
 * parts of a restore that put state into the domain ({@link DomainRestore} orders them).
 */
final class EventChannelImages {
    private static final VarHandle INT = MethodHandles.arrayElementVarHandle(int[].class);

    private EventChannelImages() {
    }

    /**
     * The domain's event channel state as values, taken under the write lock so that no bind or
     * close is half seen. Sends may go on: their bits are in guest memory, which is not here.
     */
    static EventChannelImage take(GuestEventChannels d) {
        long stamp = d.lock.writeLock();
        try {
            Fifo fifo = d.fifo;
            List<PortImage> saved = new ArrayList<>();
            for (int port = 1; port < d.ports.validPorts(); port++) {
                long e = d.ports.get(port);
                if (PortEntry.isBound(e)) {
                    saved.add(PortImage.of(port, e, fifo != null));
                }
            }
            int n = d.vcpus().vcpuCount();
            int[] vectors = new int[n];
            long[] infoAt = new long[n];
            for (int v = 0; v < n; v++) {
                UpcallRoute.LapicVector vector = d.upcalls().vcpuVector(v);
                vectors[v] = vector == null ? EventChannelImage.NO_VECTOR : vector.vector();
                infoAt[v] = d.vcpuInfos.registeredAt(v);
            }
            long gfn = d.vcpuInfos.sharedInfoGfn();
            byte[] page = gfn != VcpuInfos.NOWHERE ? null
                    : d.vcpuInfos.sharedInfo().asSlice(0, d.width.sharedInfo().size()).toArray(ValueLayout.JAVA_BYTE);
            return new EventChannelImage(d.ports.validPorts(), saved, vectors, gfn, page, infoAt,
                    fifo == null ? null : fifo.image());
        } finally {
            d.lock.unlockWrite(stamp);
        }
    }

    /**
     * Restore, write lock held, on a domain without ports: shared_info and the registered
     * vcpu_info are adopted where the image says, as they are in guest memory (a shared_info never
     * mapped gets the saved contents), and the per-vCPU upcall vectors are set. The caller checked
     * that the frames are in guest memory.
     */
    static void restoreVcpuState(GuestEventChannels d, EventChannelImage image) {
        GuestMemory memory = d.vcpus().memory();
        VcpuInfos vcpuInfos = d.vcpuInfos;
        if (image.sharedInfoGfn() == EventChannelImage.NOWHERE) {
            MemorySegment.copy(MemorySegment.ofArray(image.sharedInfoPage()), 0, vcpuInfos.sharedInfo(), 0,
                    image.sharedInfoPage().length);
        } else {
            vcpuInfos.adoptSharedInfo(image.sharedInfoGfn(), memory.page(image.sharedInfoGfn()));
        }
        for (int v = 0; v < image.vcpus(); v++) {
            long at = image.vcpuInfoAt()[v];
            if (at != EventChannelImage.NOWHERE) {
                vcpuInfos.adopt(v, at, memory.slice(at, VcpuInfoLayout.SIZE));
            }
            int vector = image.vcpuVectors()[v];
            d.upcalls().setVcpuVector(v, vector == EventChannelImage.NO_VECTOR ? null : new UpcallRoute.LapicVector(vector));
        }
        FifoImage saved = image.fifo();
        if (saved != null) {
            Fifo f = d.newFifo();
            for (int v = 0; v < image.vcpus(); v++) {
                long at = saved.controlBlockAt()[v];
                if (at != EventChannelImage.NOWHERE) {
                    f.mapControlBlock(v, at, memory.slice(at, EvtchnFifo.CONTROL_BLOCK_SIZE));
                }
            }
            for (long gfn : saved.arrayPageGfns()) {
                f.addPage(gfn, memory.page(gfn));
            }
            f.restore(saved);
            d.ports.setLimit(EvtchnFifo.NR_CHANNELS);
            d.fifo = f;
        }
        d.ports.makeValid(image.validPorts());
    }

    /**
     * Restore, write lock held: binds the free {@code port} as {@code entry} (with its VIRQ slot),
     * leaving its pending bit as the guest's memory has it.
     */
    static void bindSaved(GuestEventChannels d, int port, long entry) {
        d.counters.reset(port);
        d.ports.allocate(port, entry);
        if (PortEntry.type(entry) == PortEntry.VIRQ) {
            INT.setRelease(d.virqPorts, GuestEventChannels.virqSlot(PortEntry.virqNumber(entry), PortEntry.vcpu(entry)), port);
        }
    }
}
