package xen.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reference.guest.GuestConfig;
import reference.guest.ReferenceGuest;
import xen.evtchn.api.abi.ConsoleRing;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;

/**
 * The console backend against a real host: the reference guest in console mode prints numbered
 * lines on its ring and echoes what is typed; the backend is swapped under it again and again.
 */
class ConsoleBackendTest {
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final List<SoftwareBackend> vcpus = new ArrayList<>();
    private ConsoleBackend backend = backend();

    private ConsoleBackend backend() {
        ConsoleBackend b = new ConsoleBackend(host, host, log::add);
        host.addListener(b);
        return b;
    }

    /** A bundle update: the old instance goes (its ports parked), a new one comes and takes them over. */
    private void swap() {
        host.removeListener(backend);
        backend.deactivate();
        backend = backend();
    }

    @AfterEach
    void tearDown() {
        for (DomainHandle d : host.domains()) {
            host.destroyDomain(d.domid());
        }
        vcpus.forEach(SoftwareBackend::close);
        timers.close();
    }

    private DomainHandle domain(int domid, long ramBytes) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, ramBytes, host.hypercalls());
        vcpus.add(b);
        return host.createDomain(domid, b, lines::add);
    }

    @Test
    void everyLineOnceInOrderAndEveryTypedLineEchoedAcrossSwaps() throws Exception {
        int total = 3000;
        GuestConfig config = GuestConfig.ticking(1, 100, Duration.ofSeconds(3)).withConsole(total);
        DomainHandle d = domain(1, config.ramBytes());
        ReferenceGuest guest = ReferenceGuest.start(vcpus.get(0), config);
        List<String> typed = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String line = "typed " + i + " " + "x".repeat(i * 7);
            typed.add(line);
            byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
            assertEquals(bytes.length, d.console().type(bytes, 0, bytes.length));
            Thread.sleep(40);
            swap();
        }
        assertTrue(vcpus.get(0).join(Duration.ofSeconds(60)), "the guest did not finish");
        assertTrue(guest.finished(), "the guest did not power off");

        List<String> numbered = lines.stream().filter(l -> l.startsWith("line ")).toList();
        assertEquals(total, numbered.size(), "numbered lines");
        for (int i = 0; i < total; i++) {
            assertEquals("line " + (i + 1) + " of " + total, numbered.get(i));
        }
        List<String> echoed = lines.stream().filter(l -> l.startsWith("echo ")).map(l -> l.substring(5)).toList();
        assertEquals(typed, echoed);
        assertTrue(lines.contains("reference guest: console: " + total + " of " + total + " lines printed, "
                + typed.size() + " typed lines echoed"), () -> String.join("\n", lines));
        assertEquals(List.of(), log);
    }

    @Test
    void attachedStreamGetsHistoryThenLiveBytes() throws Exception {
        GuestConfig config = GuestConfig.ticking(1, 100, Duration.ofSeconds(1)).withConsole(200);
        DomainHandle d = domain(2, config.ramBytes());
        ReferenceGuest.start(vcpus.get(0), config);
        waitFor(() -> lines.stream().anyMatch(l -> l.equals("line 50 of 200")));
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (AutoCloseable a = d.console().attach(raw)) {
            assertTrue(vcpus.get(0).join(Duration.ofSeconds(30)));
        }
        String text = raw.toString(StandardCharsets.US_ASCII);
        StringBuilder expected = new StringBuilder();
        for (int i = 1; i <= 200; i++) {
            expected.append("line ").append(i).append(" of 200\n");
        }
        assertTrue(text.contains(expected), text);
    }

    @Test
    void corruptIndicesAreReportedOnceAndNeverReadOutOfBounds() throws Exception {
        DomainHandle d = domain(3, 64 << 10);
        MemorySegment ring = host.map(3, d.hvmParam(HvmParam.CONSOLE_PFN), 1);
        int port = (int) d.hvmParam(HvmParam.CONSOLE_EVTCHN);
        waitFor(() -> backend.domains().contains(3));
        for (int i = 0; i < 3; i++) {
            ring.set(ValueLayout.JAVA_INT, ConsoleRing.OUT_PROD, ring.get(ValueLayout.JAVA_INT, ConsoleRing.OUT_CONS) + 5000);
            d.eventChannels().send(port);
            waitFor(() -> ring.get(ValueLayout.JAVA_INT, ConsoleRing.OUT_CONS) == ring.get(ValueLayout.JAVA_INT, ConsoleRing.OUT_PROD));
        }
        assertEquals(1, log.size(), log::toString);
        assertTrue(log.get(0).contains("dom3: console ring indices corrupt"), log::toString);
        assertEquals(List.of(), lines, "nothing printed from a corrupt ring");

        // The ring works again afterwards.
        byte[] hello = "hello\n".getBytes(StandardCharsets.US_ASCII);
        int prod = ring.get(ValueLayout.JAVA_INT, ConsoleRing.OUT_PROD);
        for (int i = 0; i < hello.length; i++) {
            ring.set(ValueLayout.JAVA_BYTE, ConsoleRing.OUT + ((prod + i) & (ConsoleRing.OUT_SIZE - 1)), hello[i]);
        }
        ring.set(ValueLayout.JAVA_INT, ConsoleRing.OUT_PROD, prod + hello.length);
        d.eventChannels().send(port);
        waitFor(() -> lines.contains("hello"));
    }

    @Test
    void inputGoesOnlyAsFarAsTheRingHasRoom() throws Exception {
        DomainHandle d = domain(4, 64 << 10);
        MemorySegment ring = host.map(4, d.hvmParam(HvmParam.CONSOLE_PFN), 1);
        byte[] typed = new byte[3000];
        for (int i = 0; i < typed.length; i++) {
            typed[i] = (byte) ('a' + i % 26);
        }
        assertEquals(typed.length, d.console().type(typed, 0, typed.length));
        waitFor(() -> ring.get(ValueLayout.JAVA_INT, ConsoleRing.IN_PROD) == ConsoleRing.IN_SIZE);
        assertEquals(typed.length - ConsoleRing.IN_SIZE, d.console().inputQueued(), "the rest waits at the host");
        // The guest consumes it all, a ring at a time, as hvc_xen does (in_cons, then a kick).
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        int port = (int) d.hvmParam(HvmParam.CONSOLE_EVTCHN);
        while (got.size() < typed.length) {
            int cons = ring.get(ValueLayout.JAVA_INT, ConsoleRing.IN_CONS);
            int prod = ring.get(ValueLayout.JAVA_INT, ConsoleRing.IN_PROD);
            for (int i = cons; i != prod; i++) {
                got.write(ring.get(ValueLayout.JAVA_BYTE, ConsoleRing.IN + (i & (ConsoleRing.IN_SIZE - 1))));
            }
            ring.set(ValueLayout.JAVA_INT, ConsoleRing.IN_CONS, prod);
            d.eventChannels().send(port);
            int had = got.size();
            if (had < typed.length) {
                waitFor(() -> ring.get(ValueLayout.JAVA_INT, ConsoleRing.IN_PROD) != ring.get(ValueLayout.JAVA_INT, ConsoleRing.IN_CONS));
            }
        }
        assertEquals(new String(typed, StandardCharsets.US_ASCII), got.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void destroyingTheDomainStopsItsConsole() throws Exception {
        domain(5, 64 << 10);
        waitFor(() -> backend.domains().contains(5));
        assertTrue(host.destroyDomain(5));
        assertFalse(backend.domains().contains(5));
        assertFalse(host.isParked(ConsoleBackend.handleName(5)));
        assertTrue(host.backends().stream().noneMatch(b -> b.name().equals(ConsoleBackend.handleName(5))));
    }

    @Test
    void foreignMemoryMapsOnlyTheDomainsFrames() {
        DomainHandle d = domain(6, 64 << 10);
        long frames = (64 << 10) / 4096 + SoftwareBackend.SPECIAL_FRAMES;
        assertEquals(4096, host.map(6, frames - 1, 1).byteSize());
        assertThrows(IllegalArgumentException.class, () -> host.map(6, frames, 1));
        assertThrows(IllegalArgumentException.class, () -> host.map(6, frames - 1, 2));
        assertThrows(IllegalArgumentException.class, () -> host.map(6, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> host.map(6, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> host.map(6, Long.MAX_VALUE, 1));
        assertThrows(IllegalStateException.class, () -> host.map(99, 0, 1));
        assertEquals(frames - SoftwareBackend.SPECIAL_FRAMES, d.hvmParam(HvmParam.CONSOLE_PFN));
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(5);
        }
    }
}
