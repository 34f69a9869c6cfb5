package itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import xen.block.front.BlkFront;
import xen.block.front.TestGuest;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.host.GuestHost;
import xen.evtchn.api.store.XenStore;

/**
 * The block backend in a real framework (Felix or Equinox): the toolstack adds a disk through the
 * XenBus service, a Java blkfront in this probe connects (its xenbus steps written through dom0's
 * XenStore service, as the guest's driver would write them) and streams writes while the
 * xen.block bundle is updated again and again: the image afterwards is exactly what was written,
 * every request answered once.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BlockIT {
    private static final int DOMID = 41;
    private static final int SECTORS = 8192;
    private Host host;

    private Host host() {
        if (host == null) {
            host = new Host();
        }
        return host;
    }

    @Configuration
    public Option[] configuration() {
        return HostOptions.runtime();
    }

    @Test
    public void theBlockBackendIsUpdatedMidStreamWithNothingLostOrDoubled() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        XenBus bus = host().service(XenBus.class);
        XenStore store = host().service(XenStore.class);
        Random random = new Random(11);
        Path img = Files.createTempFile("blockit", ".img");
        try (TestGuest guest = new TestGuest(xen, DOMID, 4 << 20)) {
            byte[] expected = new byte[SECTORS * 512];
            random.nextBytes(expected);
            Files.write(img, expected);
            DiskSpec disk = new DiskSpec(img, "xvda", false);
            Host.await("the bus to know dom" + DOMID, () -> {
                try {
                    bus.add(disk.nodes(DOMID));
                    return true;
                } catch (IllegalArgumentException e) {
                    return false; // the bus has not heard of the domain yet
                }
            });
            String frontend = "/local/domain/" + DOMID + "/device/vbd/" + disk.devid();
            String backend = "/local/domain/0/backend/vbd/" + DOMID + "/" + disk.devid();
            awaitState(store, backend, XenbusState.INIT_WAIT);
            assertEquals(Integer.toString(SECTORS), store.readString(backend + "/sectors"));
            BlkFront front = new BlkFront(guest, 1);
            front.nodes().forEach((k, v) -> store.write(frontend + "/" + k, v));
            store.write(frontend + "/state", Integer.toString(XenbusState.INITIALISED));
            awaitState(store, backend, XenbusState.CONNECTED);
            store.write(frontend + "/state", Integer.toString(XenbusState.CONNECTED));

            Bundle block = Arrays.stream(host().context.getBundles()).filter(b -> b.getSymbolicName().equals("xen.block"))
                    .findFirst().orElseThrow();
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger updates = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Thread updater = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < 6 && !done.get(); i++) {
                        Thread.sleep(100);
                        host().update(block, "xen.block");
                        updates.incrementAndGet();
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            int writes = 0;
            while (updater.isAlive() || writes < 2000) {
                int sectors = 1 + random.nextInt(88);
                long sector = random.nextInt(SECTORS - sectors + 1);
                byte[] data = new byte[sectors * 512];
                random.nextBytes(data);
                front.submitWrite(sector, data);
                System.arraycopy(data, 0, expected, (int) sector * 512, data.length);
                writes++;
            }
            front.drain();
            done.set(true);
            updater.join();
            assertEquals(List.of(), List.copyOf(errors));
            assertEquals(6, updates.get());
            assertEquals("every request answered", writes, front.statuses().size());
            assertTrue(front.statuses().toString(), front.statuses().values().stream().allMatch(s -> s == Blkif.RSP_OKAY));
            assertEquals("none answered twice or unasked", List.of(), front.anomalies());
            assertArrayEquals("the image is exactly what was written", expected, Files.readAllBytes(img));
            assertEquals(Bundle.ACTIVE, block.getState());
            assertEquals(Integer.toString(XenbusState.CONNECTED), store.readString(backend + "/state"));
        } finally {
            Files.deleteIfExists(img);
        }
    }

    private static void awaitState(XenStore store, String path, int state) {
        Host.await(path + " in state " + XenbusState.name(state), () -> {
            try {
                return store.readString(path + "/state").equals(Integer.toString(state));
            } catch (RuntimeException e) {
                return false; // not written yet
            }
        });
    }
}
