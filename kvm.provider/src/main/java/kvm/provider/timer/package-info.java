/**
 * Timer providers: one thread per provider sleeping until the earliest deadline of a min-heap.
 * {@link kvm.provider.timer.PortableTimerProvider} parks ({@code System.nanoTime()} clock);
 * {@link kvm.provider.timer.PreciseTimerProvider} waits on one timerfd plus one eventfd in epoll
 * (CLOCK_MONOTONIC), through java.lang.foreign. The contract lives in one class, TimerQueue.
 */
package kvm.provider.timer;
