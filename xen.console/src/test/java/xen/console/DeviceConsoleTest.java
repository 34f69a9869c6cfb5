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
import xen.evtchn.api.host.GuestConsole;

/**
 * xen-bus consoles (device/console/N) through the real bus and XenStore, the guest played as
 * Linux's hvc_xen frontend plays it: a granted ring page, {@code ring-ref} and {@code port},
 * Initialised; output and input both ways, a backend swap with nothing lost or doubled, and the
 * consoles the backend refuses.
 */
class DeviceConsoleTest {
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();

    private final BusHost bus = new BusHost();
    private final List<String> log = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        bus.close();
    }

    private BusHost.Registration backend() {
        return bus.register(new DeviceConsoleBackend(bus.host(), log::add), 0);
    }

    /** The frontend's side of a connected console: its ring page and port. */
    private record Front(GuestDomain guest, GuestFrontend fe, MemorySegment ring, int port) {
        /** Writes {@code text} into the output ring and kicks, as hvc_xen's __write_console. */
        void print(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.OUT_PROD);
            for (byte b : bytes) {
                ring.set(ValueLayout.JAVA_BYTE, ConsoleRing.OUT + (prod++ & (ConsoleRing.OUT_SIZE - 1)), b);
            }
            U32.setRelease(ring, (long) ConsoleRing.OUT_PROD, prod);
            guest.notify(port);
        }

        /** Takes what the input ring holds, as domU_read_console. */
        String read() {
            int cons = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_CONS);
            int prod = (int) U32.getAcquire(ring, (long) ConsoleRing.IN_PROD);
            StringBuilder s = new StringBuilder();
            while (cons != prod) {
                s.append((char) ring.get(ValueLayout.JAVA_BYTE, ConsoleRing.IN + (cons++ & (ConsoleRing.IN_SIZE - 1))));
            }
            U32.setRelease(ring, (long) ConsoleRing.IN_CONS, cons);
            return s.toString();
        }
    }

    private Front connect(GuestDomain guest, int n) {
        bus.bus().add(new DeviceNodes(guest.domid(), DeviceConsoleBackend.TYPE, n, Map.of(), Map.of()));
        GuestFrontend fe = guest.frontend(DeviceConsoleBackend.TYPE, n);
        fe.awaitBackendState(XenbusState.INIT_WAIT);
        long gfn = guest.allocPage();
        int ref = guest.grant(gfn, false);
        int port = guest.allocUnbound();
        fe.write("ring-ref", Integer.toString(ref));
        fe.write("port", Integer.toString(port));
        fe.switchState(XenbusState.INITIALISED);
        fe.awaitBackendState(XenbusState.CONNECTED);
        fe.switchState(XenbusState.CONNECTED);
        return new Front(guest, fe, guest.page(gfn), port);
    }

    private static String awaitOutput(ByteArrayOutputStream out, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!out.toString(StandardCharsets.US_ASCII).equals(expected)) {
            if (System.nanoTime() - deadline > 0) {
                break;
            }
            Thread.sleep(5);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void outputAndInputGoBothWaysOnEachConsoleOfItsOwn() throws Exception {
        try (BusHost.Registration r = backend()) {
            GuestDomain guest = bus.domain(1);
            Front one = connect(guest, 1);
            Front two = connect(guest, 2);
            ByteArrayOutputStream out1 = new ByteArrayOutputStream();
            ByteArrayOutputStream out2 = new ByteArrayOutputStream();
            GuestConsole console1 = guest.handle().console(1);
            try (AutoCloseable a = console1.attach(out1); AutoCloseable b = guest.handle().console(2).attach(out2)) {
                one.print("hello on one\n");
                two.print("hello on two\n");
                assertEquals("hello on one\n", awaitOutput(out1, "hello on one\n"));
                assertEquals("hello on two\n", awaitOutput(out2, "hello on two\n"));
            }
            byte[] typed = "ls\n".getBytes(StandardCharsets.US_ASCII);
            assertEquals(3, console1.type(typed, 0, typed.length));
            guest.awaitEvent(one.port()); // the kick for the output, or for the input
            StringBuilder read = new StringBuilder();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (read.length() < 3 && System.nanoTime() - deadline < 0) {
                read.append(one.read());
                Thread.sleep(5);
            }
            assertEquals("ls\n", read.toString());
            assertEquals("", two.read(), "input typed for console 1 only");
            assertEquals(0, guest.handle().console().inputQueued());
        }
        assertEquals(List.of(), log);
    }

    @Test
    void aSwappedBackendLosesAndDoublesNothing() throws Exception {
        GuestDomain guest = bus.domain(1);
        BusHost.Registration r = backend();
        Front one = connect(guest, 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringBuilder expected = new StringBuilder();
        try (AutoCloseable a = guest.handle().console(1).attach(out)) {
            for (int round = 0; round < 5; round++) {
                String before = "line " + round + " before\n";
                one.print(before);
                expected.append(before);
                assertEquals(expected.toString(), awaitOutput(out, expected.toString()));
                r.close(); // the bundle goes: the ring is handed over, the port parked
                String gap = "line " + round + " while no backend serves\n";
                one.print(gap); // its kick is kept for the next backend
                expected.append(gap);
                r = backend();
                assertEquals(expected.toString(), awaitOutput(out, expected.toString()), "round " + round);
                assertEquals(XenbusState.CONNECTED, one.fe().backendState());
            }
        }
        r.close();
        assertEquals(List.of(), log);
    }

    @Test
    void consoleZeroAndOnesBeyondTheHostsAreRefusedInTheirErrorNode() {
        try (BusHost.Registration r = backend()) {
            GuestDomain guest = bus.domain(1);
            for (int n : new int[] {0, 16}) {
                bus.bus().add(new DeviceNodes(1, DeviceConsoleBackend.TYPE, n, Map.of(), Map.of()));
                GuestFrontend fe = guest.frontend(DeviceConsoleBackend.TYPE, n);
                fe.awaitBackendState(XenbusState.CLOSED);
                String error = fe.readBackend("error");
                assertTrue(error != null && error.contains("console"), "console " + n + ": " + error);
            }
        }
    }

    @Test
    void aRingThatIsNotGrantedIsRefusedAndTheConsoleLeftUnserved() {
        try (BusHost.Registration r = backend()) {
            GuestDomain guest = bus.domain(1);
            bus.bus().add(new DeviceNodes(1, DeviceConsoleBackend.TYPE, 1, Map.of(), Map.of()));
            GuestFrontend fe = guest.frontend(DeviceConsoleBackend.TYPE, 1);
            fe.awaitBackendState(XenbusState.INIT_WAIT);
            fe.write("ring-ref", "77"); // never granted
            fe.write("port", Integer.toString(guest.allocUnbound()));
            fe.switchState(XenbusState.INITIALISED);
            fe.awaitBackendState(XenbusState.CLOSING);
            assertTrue(fe.readBackend("error").contains("ring-ref 77"), fe.readBackend("error"));
        }
    }
}
