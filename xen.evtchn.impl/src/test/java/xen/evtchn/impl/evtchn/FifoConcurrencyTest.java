package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.EvtchnFixture.Guest;

/**
 * The host links events onto a queue's tail while the guest consumes the same queues on another
 * thread: the compare-and-swap on the tail's LINK against the guest's unlinking. Each port is sent
 * again only once its last event was consumed, so every send must be consumed exactly once.
 * {@code -Dfifo.sends=N} for a longer run.
 */
class FifoConcurrencyTest extends EvtchnTestBase {
    static final int PORTS = 96;

    @Test
    void everyEventLinkedWhileTheGuestConsumesIsConsumedOnce() throws Exception {
        long sends = Long.getLong("fifo.sends", 200_000);
        Guest g = guest(GuestWidth.X86_64);
        FifoGuest f = new FifoGuest(g.d, g.memory()).start(2, 1);
        int[] ports = new int[PORTS];
        int[] index = new int[1024];
        for (int i = 0; i < PORTS; i++) {
            ports[i] = g.d.bindIpi(0);
            index[ports[i]] = i;
            assertEquals(0, g.d.setPriority(ports[i], i % 3 * 5)); // priorities 0, 5, 10
        }
        AtomicIntegerArray outstanding = new AtomicIntegerArray(PORTS);
        AtomicLong sent = new AtomicLong();
        AtomicLong consumed = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        // A lost event leaves its port outstanding for ever: both threads give up at the deadline, and the counts tell.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        Thread sender = new Thread(() -> {
            try {
                for (int i = 0; sent.get() < sends && System.nanoTime() < deadline; i = (i + 1) % PORTS) {
                    if (outstanding.compareAndSet(i, 0, 1)) {
                        sent.incrementAndGet();
                        g.d.send(ports[i]);
                    } else {
                        Thread.onSpinWait();
                    }
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        Thread guest = new Thread(() -> {
            try {
                while ((sender.isAlive() || consumed.get() < sent.get()) && System.nanoTime() < deadline) {
                    for (int port : f.consume(0)) {
                        consumed.incrementAndGet();
                        if (outstanding.getAndSet(index[port], 0) != 1) {
                            duplicates.incrementAndGet();
                        }
                    }
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        sender.start();
        guest.start();
        sender.join();
        guest.join();
        assertNull(failed.get());
        assertEquals(sends, sent.get(), "every port's event consumed in time for its next send");
        assertEquals(0, duplicates.get(), "none consumed twice");
        assertEquals(sent.get(), consumed.get(), "none lost");
        assertTrue(f.ready(0) == 0, "every queue drained");
        assertNull(g.d.selfCheck());
    }
}
