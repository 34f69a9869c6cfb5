package examples.timer;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import xen.evtchn.api.TimerProvider;

/**
 * A timer provider on one ScheduledThreadPoolExecutor thread, registered with a ranking
 * ({@value #RANKING}) above the built-in ones: while its bundle is active the host's timers run
 * on it. Deactivation unregisters it first (the host moves the timers back), then stops the
 * thread.
 */
@Component(property = {"service.ranking:Integer=" + ScheduledTimerProvider.RANKING, "provider.name=scheduled-example"})
public final class ScheduledTimerProvider implements TimerProvider {
    public static final int RANKING = 200;

    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "scheduled-timer-example");
        t.setDaemon(true);
        return t;
    });

    public ScheduledTimerProvider() {
        executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public Timer schedule(long deadline, Runnable action) {
        ScheduledFuture<?> f = executor.schedule(action, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return new Timer() {
            @Override
            public long deadline() {
                return deadline;
            }

            @Override
            public boolean cancel() {
                return f.cancel(false);
            }
        };
    }

    @Deactivate
    void deactivate() {
        executor.shutdownNow();
    }
}
