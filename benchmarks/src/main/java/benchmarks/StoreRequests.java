package benchmarks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.StoreBackend;
import xen.store.tree.Perms;
import xen.store.tree.Quotas;
import xen.store.tree.Store;
import xen.store.wire.StoreRing;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * XenStore, measured: the requests per second one guest makes over its ring (XS_READ of a small
 * node; the guest side in Java, as the store's tests play it: requests into the ring in guest
 * memory, a kick on the store port, the reply read by spinning on rsp_prod), one request at a
 * time and with the ring kept full of them; and the host heap a node costs in a tree of many
 * (bytes per node after full GCs, values of 8 bytes, 100 nodes a directory). Prints two tables.
 */
public final class StoreRequests {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long SECONDS = 5;

    private StoreRequests() {
    }

    public static void main(String[] args) throws Exception {
        requestsPerSecond();
        System.out.println();
        heapPerNode();
    }

    // ---- requests per second ----

    private static void requestsPerSecond() throws Exception {
        PortableTimerProvider timers = new PortableTimerProvider();
        HostComponent host = new HostComponent(timers);
        StoreBackend store = new StoreBackend(host, host, null, line -> System.err.println("xen.store: " + line));
        host.addListener(store);
        try (SoftwareBackend vcpus = new SoftwareBackend(1, 1, 1 << 20, host.hypercalls())) {
            DomainHandle d = host.createDomain(1, vcpus, line -> { });
            while (!store.domains().contains(1)) {
                Thread.sleep(1);
            }
            store.write("/local/domain/1/data/small", "8 bytes!");
            Client c = new Client(host.map(1, d.hvmParam(HvmParam.STORE_PFN), 1), d, (int) d.hvmParam(HvmParam.STORE_EVTCHN));
            byte[] read = WireMessage.of(XsType.READ, 1, 0, "data/small").encode();
            System.out.println("| XS_READ of an 8-byte node, one guest | requests | req/s | µs a request |");
            System.out.println("|---|---|---|---|");
            for (int inFlight : new int[] {1, 16}) {
                c.run(read, inFlight, SECONDS / 2); // warm-up
                long start = System.nanoTime();
                long n = c.run(read, inFlight, SECONDS);
                double s = (System.nanoTime() - start) / 1e9;
                System.out.printf("| %s | %,d | %,.0f | %.1f |%n",
                        inFlight == 1 ? "one at a time (send, kick, wait for the reply)" : inFlight + " in the ring at once",
                        n, n / s, s * 1e6 / n);
            }
            host.destroyDomain(1);
        } finally {
            host.removeListener(store);
            store.deactivate();
            timers.close();
        }
    }

    /** The guest's side of the ring: requests in, replies out, counted. */
    private static final class Client {
        final MemorySegment page;
        final DomainHandle domain;
        final int port;

        Client(MemorySegment page, DomainHandle domain, int port) {
            this.page = page;
            this.domain = domain;
            this.port = port;
        }

        /** Requests for {@code seconds}, at most {@code inFlight} unanswered; how many were answered. */
        long run(byte[] request, int inFlight, long seconds) {
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            long sent = 0;
            long answered = 0;
            int replyBytes = -1;
            int have = 0;
            while (System.nanoTime() < deadline || answered < sent) {
                while (sent - answered < inFlight && System.nanoTime() < deadline
                        && StoreRing.RING_SIZE - (page.get(U32, StoreRing.REQ_PROD) - page.get(U32, StoreRing.REQ_CONS)) >= request.length) {
                    int prod = page.get(U32, StoreRing.REQ_PROD);
                    for (int i = 0; i < request.length; i++) {
                        page.set(ValueLayout.JAVA_BYTE, StoreRing.REQ + ((prod + i) & (StoreRing.RING_SIZE - 1)), request[i]);
                    }
                    page.set(U32, StoreRing.REQ_PROD, prod + request.length);
                    sent++;
                    domain.eventChannels().send(port);
                }
                int cons = page.get(U32, StoreRing.RSP_CONS);
                int avail = page.get(U32, StoreRing.RSP_PROD) - cons;
                if (avail == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                if (replyBytes < 0 && avail >= WireMessage.HEADER) {
                    int len = page.get(U32, StoreRing.RSP + ((cons + 12) & (StoreRing.RING_SIZE - 1)));
                    replyBytes = WireMessage.HEADER + len; // every reply is the same READ's, never split at the length
                }
                have += avail;
                page.set(U32, StoreRing.RSP_CONS, cons + avail);
                while (replyBytes > 0 && have >= replyBytes) {
                    have -= replyBytes;
                    answered++;
                }
            }
            return answered;
        }
    }

    // ---- heap per node ----

    private static void heapPerNode() {
        System.out.println("| tree | nodes | heap | B a node |");
        System.out.println("|---|---|---|---|");
        for (int nodes : new int[] {10_000, 100_000}) {
            long before = usedAfterGc();
            Store store = new Store(Quotas.DEFAULTS);
            byte[] value = "8 bytes!".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < nodes; i++) {
                store.write(Perms.PRIVILEGED, 0, "/local/domain/1/data/d" + i / 100 + "/n" + i % 100, value);
            }
            long after = usedAfterGc();
            int total = store.size();
            System.out.printf("| %,d values of 8 bytes, 100 a directory | %,d | %,.1f MiB | %.0f |%n", nodes, total,
                    (after - before) / 1048576.0, (after - before) / (double) total);
            if (store.size() != total) {
                throw new AssertionError();
            }
        }
    }

    private static long usedAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
