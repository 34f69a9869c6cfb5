package itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.EventChannels;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * A domain whose guest is the test itself: no guest code runs on its vCPU; the test makes the
 * EVTCHNOP calls its hypercalls would, through {@link DomainHandle#eventChannels()}, and reads the
 * host's counters of its ports.
 */
final class ProbeDomain implements AutoCloseable {
    final GuestHost host;
    final int domid;
    final SoftwareBackend vcpus;
    final DomainHandle domain;
    final EventChannels events;

    ProbeDomain(GuestHost host, int domid) {
        this.host = host;
        this.domid = domid;
        this.vcpus = new SoftwareBackend(domid, 1, 1 << 20, host.hypercalls());
        this.domain = host.createDomain(domid, vcpus, line -> { });
        this.events = domain.eventChannels();
    }

    /** alloc_unbound(DOMID_SELF, 0): a port offered to host-side backends. */
    int offerToHost() {
        int port = events.allocUnbound(DomId.SELF, DomId.HOST);
        assertTrue("alloc_unbound: " + port, port > 0);
        return port;
    }

    long raised(int port) {
        return domain.port(port).raised();
    }

    long sent(int port) {
        return domain.port(port).sent();
    }

    /**
     * Sends on {@code port} and waits until the backend's answer is raised on it: exactly one
     * (more is a duplicate). Returns the nanoseconds from the send to the answer.
     */
    long pingPong(int port, long timeoutMs) {
        long before = raised(port);
        long start = System.nanoTime();
        assertEquals(0, events.send(port));
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (raised(port) == before) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("lost: no answer to event " + sent(port) + " on dom" + domid + " port " + port
                        + " within " + timeoutMs + " ms");
            }
            LockSupport.parkNanos(20_000); // not a spin: the machine has two cores, and the host needs them
        }
        long took = System.nanoTime() - start;
        long after = raised(port);
        assertEquals("one answer per event (a duplicate otherwise)", before + 1, after);
        return took;
    }

    @Override
    public void close() {
        host.destroyDomain(domid);
        vcpus.close();
    }
}
