package kvm.provider.timer;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import xen.evtchn.api.TimerProvider;

/**
 * Offers this host's best {@link TimerProvider} as a service: {@link PreciseTimerProvider} where
 * it is supported and opens, else {@link PortableTimerProvider}. The component registers the
 * service itself, because its properties depend on the choice:
 * {@value #NAME_PROPERTY} ("precise" or "portable"), {@code service.ranking}
 * ({@value #PRECISE_RANKING} or {@value #PORTABLE_RANKING}), and, after a fall-back,
 * {@value #FALLBACK_PROPERTY} saying why the precise one is not used. Deactivation unregisters the
 * service (the host moves its timers to the next provider first), then closes the provider (its
 * armed timers never fire).
 * <p>
 * An optional configuration {@value #PID} ({@link TimerProviderMetatype}) sets {@value #KIND}
 * (best, precise, portable) and {@value #RANKING}; a bad one fails the activation with a message.
 * A changed configuration re-registers the service: the host's timers move over.
 */
@Component(service = {}, immediate = true, configurationPid = TimerProviderComponent.PID)
@Designate(ocd = TimerProviderMetatype.class)
public final class TimerProviderComponent {
    public static final String PID = "xen.timer";
    public static final String KIND = "kind";
    public static final String RANKING = "ranking";
    public static final String BEST = "best";
    /** Service property: which provider this is. */
    public static final String NAME_PROPERTY = "provider.name";
    /** Service property, only on the portable provider chosen in place of the precise one: why. */
    public static final String FALLBACK_PROPERTY = "provider.fallback";
    public static final String PRECISE = "precise";
    public static final String PORTABLE = "portable";
    public static final int PRECISE_RANKING = 100;
    public static final int PORTABLE_RANKING = 50;

    private final Choice choice;
    private final ServiceRegistration<TimerProvider> registration;

    @Activate
    public TimerProviderComponent(BundleContext context, Map<String, Object> configuration) {
        Object kindValue = configuration.getOrDefault(KIND, BEST);
        String kind = String.valueOf(kindValue).strip();
        Integer ranking = ranking(configuration.get(RANKING));
        Choice chosen = switch (kind) {
            case BEST -> choose(PreciseTimerProvider::isSupported, PreciseTimerProvider::unsupportedReason,
                    PreciseTimerProvider::new, PortableTimerProvider::new);
            case PRECISE -> {
                if (!PreciseTimerProvider.isSupported()) {
                    throw new IllegalArgumentException("configuration " + PID + ": " + KIND
                            + "=precise, but it is unsupported here: " + PreciseTimerProvider.unsupportedReason());
                }
                yield new Choice(new PreciseTimerProvider(), PRECISE, PRECISE_RANKING, null);
            }
            case PORTABLE -> new Choice(new PortableTimerProvider(), PORTABLE, PORTABLE_RANKING, null);
            default -> throw new IllegalArgumentException("configuration " + PID + ": " + KIND
                    + " must be best, precise or portable: got \"" + (kind.length() > 40 ? kind.substring(0, 40) + "..." : kind) + "\"");
        };
        this.choice = ranking == null ? chosen : chosen.withRanking(ranking);
        try {
            this.registration = context.registerService(TimerProvider.class, choice.provider(), choice.properties());
        } catch (RuntimeException e) {
            choice.provider().close();
            throw e;
        }
    }

    @Deactivate
    void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it (bundle stopping)
        } finally {
            choice.provider().close();
        }
    }

    /** A configured ranking: null if absent; a whole number, else IllegalArgumentException. */
    static Integer ranking(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Integer i) {
            return i;
        }
        try {
            return Integer.valueOf(value.toString().strip());
        } catch (NumberFormatException e) {
            String s = value.toString();
            throw new IllegalArgumentException("configuration " + PID + ": " + RANKING + " must be a whole number: got \""
                    + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"");
        }
    }

    /**
     * The provider chosen, its name and ranking, and why the precise one was not, if it was not.
     */
    record Choice(ThreadedTimerProvider provider, String name, int ranking, String fallback) {
        Choice withRanking(int newRanking) {
            return new Choice(provider, name, newRanking, fallback);
        }

        Dictionary<String, Object> properties() {
            Hashtable<String, Object> p = new Hashtable<>();
            p.put(NAME_PROPERTY, name);
            p.put(Constants.SERVICE_RANKING, ranking);
            if (fallback != null) {
                p.put(FALLBACK_PROPERTY, fallback);
            }
            return p;
        }
    }

    /** The precise provider if {@code supported} and it opens, else the portable one. */
    static Choice choose(BooleanSupplier supported, Supplier<String> unsupportedReason,
            Supplier<? extends ThreadedTimerProvider> precise, Supplier<? extends ThreadedTimerProvider> portable) {
        String fallback;
        if (supported.getAsBoolean()) {
            try {
                return new Choice(precise.get(), PRECISE, PRECISE_RANKING, null);
            } catch (RuntimeException e) {
                fallback = "PreciseTimerProvider failed to open: " + e.getMessage();
            }
        } else {
            fallback = "PreciseTimerProvider unsupported: " + unsupportedReason.get();
        }
        return new Choice(portable.get(), PORTABLE, PORTABLE_RANKING, fallback);
    }
}
