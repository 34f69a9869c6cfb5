package xen.evtchn.impl.host;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.save.PartImage;

/**
 * The bundles' parts of a domain's save (api {@link DomainStatePart}, a whiteboard) and the states
 * parked while a part's bundle is away ({@code DomainStateParking}). A save takes each registered
 * part's state, and a parked one of a name no registered part has; a restore hands each record to
 * the part of its name, refusing a mandatory record no part here can read.
 */
final class StateParts {
    private final List<DomainStatePart> parts = new CopyOnWriteArrayList<>();
    /** Per domid, per part name: the parked state (its own lock). */
    private final Map<Integer, Map<String, PartImage>> parked = new HashMap<>();

    /** A part comes; one of a name already registered, or a name not valid, is refused with a message. */
    void add(DomainStatePart part) {
        String name = part.name();
        if (!PartImage.validName(name)) {
            throw new IllegalArgumentException("a state part's name is 1 to " + DomainStatePart.MAX_NAME
                    + " characters of letters, digits and . _ -: got \"" + name + "\"");
        }
        synchronized (parts) {
            if (part(name) != null) {
                throw new IllegalStateException("a state part named \"" + name + "\" is registered already");
            }
            parts.add(part);
        }
    }

    void remove(DomainStatePart part) {
        parts.remove(part);
    }

    private DomainStatePart part(String name) {
        for (DomainStatePart p : parts) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Every part's state of {@code domid}, the registered ones' and the parked ones of names none has; for a save. */
    List<PartImage> save(int domid) {
        List<PartImage> images = new ArrayList<>();
        for (DomainStatePart p : parts) {
            byte[] state = p.save(domid);
            if (state != null) {
                images.add(new PartImage(p.name(), p.mandatory(), state));
            }
        }
        synchronized (parked) {
            for (PartImage image : parked.getOrDefault(domid, Map.of()).values()) {
                if (images.stream().noneMatch(i -> i.name().equals(image.name()))) {
                    images.add(image);
                }
            }
        }
        return images;
    }

    /**
     * Each record checked by its part, before anything is made: a mandatory one no part here has
     * the name of is refused, an optional one skipped.
     *
     * @throws SaveStreamException for a record refused
     */
    List<DomainStatePart.Restore> prepare(int domid, int savedDomid, List<PartImage> images) {
        List<DomainStatePart.Restore> restores = new ArrayList<>();
        for (PartImage image : images) {
            DomainStatePart p = part(image.name());
            if (p == null) {
                if (image.mandatory()) {
                    throw new SaveStreamException("save stream: the domain has state of \"" + image.name()
                            + "\", which it cannot be restored without, and no bundle here provides that part");
                }
                continue;
            }
            DomainStatePart.Restore r = p.prepare(domid, savedDomid, image.state());
            if (r == null) {
                throw new IllegalStateException("state part \"" + image.name() + "\" prepared no restore");
            }
            restores.add(r);
        }
        return restores;
    }

    void park(int domid, String name, boolean mandatory, byte[] state) {
        PartImage image = new PartImage(name, mandatory, state.clone());
        synchronized (parked) {
            parked.computeIfAbsent(domid, d -> new HashMap<>()).put(name, image);
        }
    }

    byte[] take(int domid, String name) {
        synchronized (parked) {
            Map<String, PartImage> of = parked.get(domid);
            PartImage image = of == null ? null : of.remove(name);
            if (of != null && of.isEmpty()) {
                parked.remove(domid);
            }
            return image == null ? null : image.state();
        }
    }

    /** The domain went: what was parked for it goes too. */
    void forget(int domid) {
        synchronized (parked) {
            parked.remove(domid);
        }
    }
}
