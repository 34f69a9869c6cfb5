package xen.bus.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import xen.evtchn.api.bus.XenBusBackend;

/**
 * The registered backends of each device type, best first: the highest service ranking, and of
 * equal rankings the oldest service (the lowest service id), as OSGi orders services. The first
 * of a type serves it; the others wait. The bus thread's only.
 */
final class Backends {
    /** One registered backend service. */
    record Ranked(XenBusBackend backend, String type, int ranking, long serviceId) {
    }

    private static final Comparator<Ranked> BEST_FIRST =
            Comparator.comparingInt(Ranked::ranking).reversed().thenComparingLong(Ranked::serviceId);

    private final Map<String, List<Ranked>> byType = new HashMap<>();

    /** Adds {@code r}; whether it now serves its type. */
    boolean add(Ranked r) {
        List<Ranked> list = byType.computeIfAbsent(r.type(), t -> new ArrayList<>());
        list.add(r);
        list.sort(BEST_FIRST);
        return list.get(0) == r;
    }

    /** Removes the registration of {@code backend}; it, or null if it was not registered. */
    Ranked remove(XenBusBackend backend) {
        for (List<Ranked> list : byType.values()) {
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i).backend() == backend) {
                    return list.remove(i);
                }
            }
        }
        return null;
    }

    /** The backend serving {@code type}, or null. */
    Ranked serving(String type) {
        List<Ranked> list = byType.get(type);
        return list == null || list.isEmpty() ? null : list.get(0);
    }

    /** Every registered backend, by type, best first. */
    List<Ranked> all() {
        List<Ranked> all = new ArrayList<>();
        byType.values().forEach(all::addAll);
        return all;
    }
}
