package xen.bus.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The bus's one thread: every device's state and every call into a backend happen on it, one at a
 * time, as Linux's xenbus runs its drivers' callbacks on the xenwatch thread. The queue is bounded
 * by the callers: a device queues at most one examination at a time ({@link Device#queueExamine}).
 */
final class BusThread {
    private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final Consumer<String> log;
    private final Thread thread;
    private volatile boolean stopped;

    BusThread(String name, Consumer<String> log) {
        this.log = log;
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
    }

    boolean isCurrent() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} later on the thread; dropped once the thread stopped. */
    void post(Runnable task) {
        if (!stopped) {
            tasks.add(() -> {
                if (!stopped) {
                    task.run();
                }
            });
        }
    }

    /**
     * Runs {@code op} on the thread after the tasks before it and returns its result (or throws
     * its RuntimeException); at once on the thread itself.
     *
     * @throws IllegalStateException if the bus is stopped
     */
    <T> T call(Supplier<T> op) {
        if (isCurrent()) {
            return op.get();
        }
        if (stopped) {
            throw new IllegalStateException("xen.bus is stopped");
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        tasks.add(() -> {
            if (stopped) {
                result.completeExceptionally(new IllegalStateException("xen.bus is stopped"));
                return;
            }
            try {
                result.complete(op.get());
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw (RuntimeException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for xen.bus", e);
        }
    }

    /**
     * Runs {@code op} on the thread and waits, then stops the thread: a task queued later is
     * dropped, a caller waiting for one gets IllegalStateException.
     */
    void stopAfter(Runnable op) {
        call(() -> {
            try {
                op.run();
            } finally {
                stopped = true;
            }
            return null;
        });
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Runnable task = tasks.poll(); task != null; task = tasks.poll()) {
            task.run(); // each sees the bus stopped: callers are answered, posts dropped
        }
    }

    private void run() {
        while (!stopped) {
            try {
                tasks.take().run();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.accept("bus task failed: " + e);
            }
        }
    }
}
