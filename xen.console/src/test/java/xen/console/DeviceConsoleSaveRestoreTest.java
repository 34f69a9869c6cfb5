package xen.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.bus.testing.BusHost;
import xen.bus.testing.GuestDomain;
import xen.bus.testing.GuestFrontend;
import xen.evtchn.api.abi.ConsoleRing;
import xen.evtchn.api.abi.XenbusState;
import xen.evtchn.api.bus.DeviceNodes;

/**
 * A xen-bus console across a save and restore of its domain onto another host under another
 * domid: output printed before the save, some of it still in the ring when the save comes, and
 * after the restore arrives once, the earlier on the old host's console, the rest on the new one's.
 */
class DeviceConsoleSaveRestoreTest {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private final BusHost a = new BusHost();
    private final BusHost b = new BusHost();
    private final List<String> log = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        a.close();
        b.close();
    }

    /** Writes {@code text} into the output ring and kicks, as hvc_xen's __write_console. */
    private static void print(GuestDomain guest, MemorySegment ring, int port, String text) {
        int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_PROD);
        for (byte c : text.getBytes(StandardCharsets.US_ASCII)) {
            ring.set(ValueLayout.JAVA_BYTE, ConsoleRing.OUT + (prod++ & (ConsoleRing.OUT_SIZE - 1)), c);
        }
        U32.setRelease(ring, (long) ConsoleRing.OUT_PROD, prod);
        guest.notify(port);
    }

    @Test
    void outputBeforeAndAfterTheSaveArrivesOnce() throws Exception {
        a.register(new DeviceConsoleBackend(a.host(), log::add), 0);
        b.register(new DeviceConsoleBackend(b.host(), log::add), 0);
        GuestDomain guest = a.domain(1);
        a.bus().add(new DeviceNodes(1, DeviceConsoleBackend.TYPE, 1, Map.of(), Map.of()));
        GuestFrontend fe = guest.frontend(DeviceConsoleBackend.TYPE, 1);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        long gfn = guest.allocPage();
        int ref = guest.grant(gfn, false);
        int port = guest.allocUnbound();
        fe.write("ring-ref", Integer.toString(ref));
        fe.write("port", Integer.toString(port));
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);

        ByteArrayOutputStream before = new ByteArrayOutputStream();
        StringBuilder expected = new StringBuilder();
        try (AutoCloseable attached = guest.handle().console(1).attach(before)) {
            for (int i = 0; i < 20; i++) {
                String line = "before the save " + i + "\n";
                print(guest, guest.page(gfn), port, line); // the last ones may still be in the ring at the save
                expected.append(line);
            }
            byte[] stream = guest.handle().save();
            GuestDomain restored = b.restore(6, stream, guest);
            a.destroy(1);
            String after = "after the restore\n";
            print(restored, restored.page(gfn), port, after);
            expected.append(after);
            ByteArrayOutputStream later = new ByteArrayOutputStream();
            try (AutoCloseable attachedLater = restored.handle().console(1).attach(later)) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!(before.toString(StandardCharsets.US_ASCII) + later.toString(StandardCharsets.US_ASCII))
                        .equals(expected.toString()) && System.nanoTime() - deadline < 0) {
                    Thread.sleep(5);
                }
                String old = before.toString(StandardCharsets.US_ASCII);
                assertTrue(old.startsWith("before the save 0\n"), old);
                assertEquals(expected.toString(), old + later.toString(StandardCharsets.US_ASCII), "each byte once, in order");
            }
            assertEquals(XenbusState.CONNECTED, restored.frontend(DeviceConsoleBackend.TYPE, 1).backendState());
            assertEquals(XenbusState.CONNECTED, restored.frontend(DeviceConsoleBackend.TYPE, 1).state());
        }
        assertEquals(List.of(), log);
        assertEquals(List.of(), a.log());
        assertEquals(List.of(), b.log());
    }
}
