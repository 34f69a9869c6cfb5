package kvm.provider.xen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import kvm.provider.os.Signals;
import org.junit.jupiter.api.Test;

/** The kick's signal without KVM: queued for a thread that blocks it, harmless to any other. */
class VcpuKickTest {
    @Test
    void aKickToAThreadThatDoesNotBlockItIsDroppedNotFatal() {
        new VcpuKick(); // its class sets SIGUSR1 to be ignored
        // This thread does not block SIGUSR1: with the default action the JVM would die here.
        assertEquals(0, Signals.tgkill(Signals.getpid(), Signals.gettid(), Signals.SIGUSR1));
        MemorySegment set = Signals.sigset(Arena.ofAuto(), Signals.SIGUSR1);
        assertFalse(Signals.consume(set), "an ignored, unblocked signal is dropped, not left pending");
    }

    @Test
    void aThreadThatBlocksItStillHasItQueued() throws InterruptedException {
        new VcpuKick();
        AtomicReference<Object> taken = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Signals.block(Signals.SIGUSR1);
                MemorySegment set = Signals.sigset(Arena.ofAuto(), Signals.SIGUSR1);
                Signals.tgkill(Signals.getpid(), Signals.gettid(), Signals.SIGUSR1);
                boolean first = Signals.consume(set);
                boolean second = Signals.consume(set);
                taken.set(first && !second);
            } catch (RuntimeException e) {
                taken.set(e);
            }
        });
        t.join();
        assertEquals(Boolean.TRUE, taken.get(), "pending once while blocked, then taken");
    }
}
