package kvm.provider.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
