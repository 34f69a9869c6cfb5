package xen.evtchn.impl.save;

import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.evtchn.BackendImage;
import xen.evtchn.impl.evtchn.DomainEventsImage;
import xen.evtchn.impl.evtchn.PortImage;
import xen.evtchn.impl.grant.GrantTableImage;
import xen.evtchn.impl.time.TimerState;

/**
 * What a reader has taken from a stream so far, section by section (a version-3 record, or a
 * part of a version 1 or 2 body); each section reads the ones before it for its checks. A reader
 * reads the sections in a fixed order, so those are there when a later one needs them.
 */
final class ImageParts {
    // the domain record
    int domid;
    GuestWidth width;
    int vcpus;
    int xenMajor;
    int xenMinor;
    long systemTime;
    // the ports record
    boolean fifo;
    int validPorts;
    /** Indexed by port number, null where not in use. */
    PortImage[] byPort;
    // the rest
    final long[] hvmParams = new long[HvmParam.NR_PARAMS];
    int[] vcpuVectors;
    long sharedInfoGfn;
    byte[] sharedInfoPage;
    long[] vcpuInfoAt;
    List<TimerState> timers;
    List<BackendImage> backends;
    FifoImage fifoState;
    GrantTableImage grants;
    /** The bundles' parts, names ascending; null: none. */
    List<PartImage> parts;

    DomainImage image() {
        List<PortImage> ports = new ArrayList<>();
        for (PortImage p : byPort) {
            if (p != null) {
                ports.add(p);
            }
        }
        EventChannelImage events = new EventChannelImage(validPorts, ports, vcpuVectors, sharedInfoGfn, sharedInfoPage,
                vcpuInfoAt, fifoState);
        return new DomainImage(domid, width, xenMajor, xenMinor, systemTime, new DomainEventsImage(events, backends),
                hvmParams, timers, grants, parts == null ? List.of() : parts);
    }
}
