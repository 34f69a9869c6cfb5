package xen.evtchn.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.GuestWidth;

/** EVTCHNOP_reset while another reset of the same domain runs answers -EBUSY, as Xen. */
class ConcurrentResetTest {
    @Test
    void aResetDuringAnotherResetAnswersEbusyAndTheTableEndsEmpty() throws Exception {
        Domains domains = new Domains();
        try (SoftwareBackend b = new SoftwareBackend(1, 1, 1 << 20, call -> 0)) {
            GuestDomain d = domains.create(1, GuestWidth.X86_64, b);
            AtomicBoolean busySeen = new AtomicBoolean();
            AtomicInteger other = new AtomicInteger();
            Thread second = new Thread(() -> {
                while (!busySeen.get() && !Thread.currentThread().isInterrupted()) {
                    int rc = d.reset(DomId.SELF);
                    if (rc == -Errno.EBUSY) {
                        busySeen.set(true);
                    } else if (rc != 0) {
                        other.set(rc);
                    }
                }
            });
            second.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!busySeen.get() && System.nanoTime() < deadline) {
                while (d.bindIpi(0) > 0) {
                    // fill the table so that the next reset takes a while
                }
                d.reset(DomId.SELF);
            }
            second.interrupt();
            second.join(5_000);
            assertTrue(busySeen.get(), "a reset racing another one answered -EBUSY within 10 s");
            assertEquals(0, other.get(), "no answer but 0 or -EBUSY");
            assertEquals(0, d.reset(DomId.SELF));
            assertEquals(1, d.bindIpi(0), "after the resets the table is empty: port 1 comes first");
        }
    }
}
