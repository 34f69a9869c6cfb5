package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The kick's signal without KVM: queued for a thread that blocks it, harmless to any other. */
class VcpuKickTest {
    @Test
    void aKickToAThreadThatDoesNotBlockItIsDroppedNotFatal() {
        new VcpuKick(); // its class sets SIGUSR1 to be ignored
        // This thread does not block SIGUSR1: with the default action the JVM would die here.
        assertEquals(0, Libc.tgkill(Libc.getpid(), Libc.gettid(), Libc.SIGUSR1));
        MemorySegment set = Libc.sigset(Arena.ofAuto(), Libc.SIGUSR1);
        assertFalse(Libc.consumeSignal(set), "an ignored, unblocked signal is dropped, not left pending");
    }

    @Test
    void aThreadThatBlocksItStillHasItQueued() throws InterruptedException {
        new VcpuKick();
        AtomicReference<Object> taken = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Libc.blockSignal(Libc.SIGUSR1);
                MemorySegment set = Libc.sigset(Arena.ofAuto(), Libc.SIGUSR1);
                Libc.tgkill(Libc.getpid(), Libc.gettid(), Libc.SIGUSR1);
                boolean first = Libc.consumeSignal(set);
                boolean second = Libc.consumeSignal(set);
                taken.set(first && !second);
            } catch (RuntimeException e) {
                taken.set(e);
            }
        });
        t.join();
        assertEquals(Boolean.TRUE, taken.get(), "pending once while blocked, then taken");
    }
}
