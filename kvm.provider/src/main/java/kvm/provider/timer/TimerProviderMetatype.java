package kvm.provider.timer;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** The metatype of {@value TimerProviderComponent#PID} (read by {@link TimerProviderComponent}). */
@ObjectClassDefinition(name = "Timer provider", description = "Which timer provider this host offers its guests' timers, and its service ranking.")
@interface TimerProviderMetatype {
    @AttributeDefinition(description = "best: precise where supported, else portable; precise: timerfd + epoll (fails where unsupported); portable: a parked thread.",
            options = {@Option(value = "best"), @Option(value = "precise"), @Option(value = "portable")})
    String kind() default TimerProviderComponent.BEST;

    @AttributeDefinition(description = "service.ranking of the provider (default: 100 precise, 50 portable); the best-ranked provider runs the timers.",
            required = false)
    int ranking();
}
