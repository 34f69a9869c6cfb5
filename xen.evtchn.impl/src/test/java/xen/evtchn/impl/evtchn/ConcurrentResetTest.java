package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.GuestEventChannels;

/**
 * EVTCHNOP_reset while another reset of the same domain runs answers -EBUSY, as Xen. The first
 * reset is held in its sweep for certain rather than by luck: dom2's last port is a channel to
 * dom1, whose lock the test holds, so the sweep waits there (taking dom1's lock first, it holds
 * nothing of dom2's meanwhile).
 */
class ConcurrentResetTest {
    @Test
    void aResetDuringAnotherResetAnswersEbusyAndTheTableEndsEmpty() throws Exception {
        Domains domains = new Domains();
        try (SoftwareBackend b1 = new SoftwareBackend(1, 1, 1 << 20, call -> 0);
                SoftwareBackend b2 = new SoftwareBackend(2, 1, 1 << 20, call -> 0)) {
            GuestEventChannels peer = domains.create(1, GuestWidth.X86_64, b1);
            GuestEventChannels d = domains.create(2, GuestWidth.X86_64, b2);
            for (int i = 0; i < 100; i++) {
                d.bindIpi(0);
            }
            int channel = d.bindInterdomain(1, peer.allocUnbound(DomId.SELF, 2));
            assertEquals(101, channel);

            AtomicInteger first = new AtomicInteger(1);
            Thread resetting;
            int second;
            long held = peer.lock.writeLock();
            try {
                resetting = new Thread(() -> first.set(d.reset(DomId.SELF)), "first-reset");
                resetting.start();
                while (d.status(DomId.SELF, channel - 1).status() != EvtchnStat.CLOSED) {
                    Thread.onSpinWait(); // the sweep is on its way to the channel
                }
                second = d.reset(DomId.SELF);
            } finally {
                peer.lock.unlockWrite(held);
            }
            resetting.join();
            assertEquals(-Errno.EBUSY, second, "a reset while the first sweeps");
            assertEquals(0, first.get(), "the first one finishes");
            assertEquals(EvtchnStat.CLOSED, d.status(DomId.SELF, channel).status());
            assertEquals(0, d.reset(DomId.SELF), "once it is done, another may run");
            assertEquals(1, d.bindIpi(0), "after the resets the table is empty: port 1 comes first");
        }
    }
}
