package kvm.provider.software;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.UpcallRoute;

/** A level-triggered callback line on vCPU 0: taken again after each handler while it is held. */
class LevelInterruptTest {
    @Test
    void aHeldLevelIsTakenAgainUntilItIsReleased() throws Exception {
        AtomicInteger holdFor = new AtomicInteger(3); // the guest leaves the condition set for three handlers
        AtomicInteger handled = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        try (SoftwareBackend b = new SoftwareBackend(1, 1, 1 << 16, call -> 0)) {
            b.start(new GuestCode() {
                @Override
                public void run(SoftwareVcpu cpu) {
                    while (!cpu.stopRequested()) {
                        cpu.halt();
                    }
                }

                @Override
                public void upcall(SoftwareVcpu cpu, UpcallRoute route) {
                    handled.incrementAndGet();
                    if (holdFor.decrementAndGet() == 0) {
                        done.countDown();
                    }
                }
            });
            b.assertLevel(new UpcallRoute.Gsi(5), () -> holdFor.get() > 0);
            assertTrue(done.await(10, TimeUnit.SECONDS), "the level was taken three times");
            Thread.sleep(50);
            assertEquals(3, handled.get(), "released after the third: not taken again");
            assertEquals(1, b.vcpu(0).upcallsDelivered(), "one assertion from the host");
            assertEquals(3, b.vcpu(0).upcallsHandled());
            b.close();
            assertTrue(b.join(Duration.ofSeconds(5)));
        }
    }
}
