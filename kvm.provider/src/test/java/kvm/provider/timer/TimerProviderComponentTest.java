package kvm.provider.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Dictionary;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;

/** Which provider the component offers, and with which properties. */
class TimerProviderComponentTest {
    @Test
    void thePreciseProviderWhereItIsSupported() {
        // Stand-in for the precise provider, so that this test runs anywhere.
        TimerProviderComponent.Choice c = TimerProviderComponent.choose(() -> true, () -> "n/a",
                PortableTimerProvider::new, () -> {
                    throw new AssertionError("the portable provider is not needed");
                });
        try {
            assertEquals(TimerProviderComponent.PRECISE, c.name());
            Dictionary<String, Object> p = c.properties();
            assertEquals("precise", p.get(TimerProviderComponent.NAME_PROPERTY));
            assertEquals(100, p.get(Constants.SERVICE_RANKING));
            assertNull(p.get(TimerProviderComponent.FALLBACK_PROPERTY));
        } finally {
            c.provider().close();
        }
    }

    @Test
    void thePortableProviderWhereThePreciseOneIsUnsupported() {
        TimerProviderComponent.Choice c = TimerProviderComponent.choose(() -> false, () -> "not Linux",
                () -> {
                    throw new AssertionError("an unsupported provider is not tried");
                }, PortableTimerProvider::new);
        try {
            assertInstanceOf(PortableTimerProvider.class, c.provider());
            Dictionary<String, Object> p = c.properties();
            assertEquals("portable", p.get(TimerProviderComponent.NAME_PROPERTY));
            assertEquals(50, p.get(Constants.SERVICE_RANKING));
            assertEquals("PreciseTimerProvider unsupported: not Linux", p.get(TimerProviderComponent.FALLBACK_PROPERTY));
        } finally {
            c.provider().close();
        }
    }

    @Test
    void thePortableProviderWhenThePreciseOneFailsToOpen() {
        TimerProviderComponent.Choice c = TimerProviderComponent.choose(() -> true, () -> null,
                () -> {
                    throw new IllegalStateException("timerfd_create failed: EMFILE");
                }, PortableTimerProvider::new);
        try {
            assertEquals(TimerProviderComponent.PORTABLE, c.name());
            assertEquals("PreciseTimerProvider failed to open: timerfd_create failed: EMFILE",
                    c.properties().get(TimerProviderComponent.FALLBACK_PROPERTY));
        } finally {
            c.provider().close();
        }
    }

    @Test
    void aConfiguredKindAndRankingAreCheckedAndUsed() {
        var context = (org.osgi.framework.BundleContext) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {org.osgi.framework.BundleContext.class}, (proxy, method, args) -> {
                    throw new UnsupportedOperationException(method.getName());
                });
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> new TimerProviderComponent(context, java.util.Map.of("kind", "fastest")));
        assertEquals("configuration xen.timer: kind must be best, precise or portable: got \"fastest\"", kind.getMessage());
        IllegalArgumentException ranking = assertThrows(IllegalArgumentException.class,
                () -> new TimerProviderComponent(context, java.util.Map.of("ranking", "high")));
        assertEquals("configuration xen.timer: ranking must be a whole number: got \"high\"", ranking.getMessage());
        assertEquals(300, TimerProviderComponent.ranking(" 300"));
        assertEquals(null, TimerProviderComponent.ranking(null));
        TimerProviderComponent.Choice c = new TimerProviderComponent.Choice(new PortableTimerProvider(), "portable", 50, null)
                .withRanking(7);
        try {
            assertEquals(7, c.properties().get(org.osgi.framework.Constants.SERVICE_RANKING));
        } finally {
            c.provider().close();
        }
    }
}
