package xen.evtchn.impl.save;

import java.util.List;
import java.util.Objects;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.impl.evtchn.DomainEventsImage;
import xen.evtchn.impl.grant.GrantTableImage;
import xen.evtchn.impl.time.TimerState;

/**
 * Everything a save takes from a guest domain, as values: what the guest was told (width, Xen
 * version), its system time at the save, its event channels and the host backends' bindings to
 * them, its HVM parameters (the callback among them) and its vCPUs' timers, with deadlines in
 * its own system time so that they mean the same on any host clock, and its grant table.
 *
 * @param domid      the domain's id when it was saved (a restore may give it another)
 * @param systemTime the guest's system time at the save (ns); a restore carries on from it
 * @param hvmParams  every HVM parameter's raw value, {@link HvmParam#NR_PARAMS} of them
 * @param timers     per vCPU, its timers as armed at the save
 * @param grants     the grant table, or null if it was a new domain's (a restore makes a new one)
 * @param parts      the bundles' parts of the domain (api DomainStatePart), one a name
 */
public record DomainImage(int domid, GuestWidth width, int xenMajor, int xenMinor, long systemTime,
        DomainEventsImage events, long[] hvmParams, List<TimerState> timers, GrantTableImage grants,
        List<PartImage> parts) {
    /** An image without bundles' parts. */
    public DomainImage(int domid, GuestWidth width, int xenMajor, int xenMinor, long systemTime,
            DomainEventsImage events, long[] hvmParams, List<TimerState> timers, GrantTableImage grants) {
        this(domid, width, xenMajor, xenMinor, systemTime, events, hvmParams, timers, grants, List.of());
    }

    public DomainImage {
        parts = List.copyOf(parts);
        if (parts.stream().map(PartImage::name).distinct().count() != parts.size()) {
            throw new IllegalArgumentException("two state parts of one name");
        }
        Objects.requireNonNull(width, "width");
        Objects.requireNonNull(events, "events");
        if (hvmParams.length != HvmParam.NR_PARAMS) {
            throw new IllegalArgumentException("HVM params: " + hvmParams.length + " values, not " + HvmParam.NR_PARAMS);
        }
        timers = List.copyOf(timers);
        if (timers.size() != events.domain().vcpus()) {
            throw new IllegalArgumentException("timers of " + timers.size() + " vCPUs for a domain of "
                    + events.domain().vcpus());
        }
    }

    /** The same image with {@code newParts} as its bundles' parts. */
    public DomainImage withParts(List<PartImage> newParts) {
        return new DomainImage(domid, width, xenMajor, xenMinor, systemTime, events, hvmParams, timers, grants, newParts);
    }

    public int vcpus() {
        return timers.size();
    }
}
