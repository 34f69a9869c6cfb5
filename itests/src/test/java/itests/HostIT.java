package itests;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.Errno;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * The host in a real framework (Felix or Equinox, whichever Failsafe put on the class path), with
 * the real bundle jars: components, guests booted by Config Admin, hot swaps under load, the shell.
 * Each test uses domids of its own, so they share one framework.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HostIT {
    /** Made in the framework: the class is also instantiated outside it, for {@link #configuration()}. */
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
    public void runsOnTheFrameworkOfThisExecution() {
        String expected = System.getProperty("itests.framework");
        assertEquals(expected, host().context.getBundle(0).getSymbolicName());
    }

    @Test
    public void everyBundleAndComponentIsActive() {
        for (Bundle b : host().context.getBundles()) {
            assertEquals(b.getSymbolicName() + " is ACTIVE", Bundle.ACTIVE, b.getState());
        }
        host().service(GuestHost.class);
        host().service(xen.evtchn.api.backend.EvtchnHost.class);
        host().service(xen.evtchn.api.TimerProvider.class);
        host().service(xen.evtchn.api.store.XenStore.class);
        assertEquals(List.of(), host().componentProblems());
    }

    @Test
    public void theReferenceGuestBootsByConfigurationAndEveryTickIsCounted() throws Exception {
        var config = host().bootReference(2, 2, 100, 2);
        try {
            ServiceReference<?> ref = host().awaitShutdown(2);
            assertEquals("poweroff", ref.getProperty("xen.shutdown"));
            assertEquals("reference", ref.getProperty("xen.guest"));
            assertArrayEquals(new long[] {200, 200}, (long[]) ref.getProperty("xen.guest.ticks"));
            DomainHandle d = (DomainHandle) host().context.getService(ref);
            assertEquals(200, d.timerTicks(0));
            assertEquals(200, d.timerTicks(1));
        } finally {
            config.delete();
        }
    }

    @Test
    public void aBadConfigurationIsRefusedAndRunningDomainsAreUntouched() throws Exception {
        var running = host().bootReference(3, 1, 100, 3);
        var bad = host().configure("xen.domain.reference", "bad", Map.of("domid", 30, "hz", "fast"));
        var clash = host().configure("xen.domain.reference", "clash", Map.of("domid", 3, "seconds", 1));
        try {
            Host.await("the bad configurations to fail", () -> host().failures("reference.guest.ReferenceGuestLauncher").size() == 2);
            List<String> failures = host().failures("reference.guest.ReferenceGuestLauncher");
            assertTrue(failures.toString(), failures.stream().anyMatch(
                    f -> f.contains("configuration xen.domain.reference: hz must be a whole number: got \"fast\"")));
            assertTrue(failures.toString(), failures.stream().anyMatch(f -> f.contains("domain 3 already exists")));
            ServiceReference<?> ref = host().awaitShutdown(3);
            assertEquals("the running domain went on to its end", "poweroff", ref.getProperty("xen.shutdown"));
            assertArrayEquals(new long[] {300}, (long[]) ref.getProperty("xen.guest.ticks"));
        } finally {
            bad.delete();
            clash.delete();
            running.delete();
        }
    }

    /** Swap (a): install, stop and start timer providers while the guest ticks; nothing lost, nothing twice. */
    @Test
    public void timersMoveBetweenProvidersWhileTheGuestTicks() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        var config = host().bootReference(5, 2, 200, 3);
        Bundle kvm = Arrays.stream(host().context.getBundles()).filter(b -> b.getSymbolicName().equals("kvm.provider"))
                .findFirst().orElseThrow();
        try {
            host().domainService(5);
            Bundle example = host().install("timer.example");
            assertTrue(xen.timerProvider(), xen.timerProvider().startsWith("scheduled-example (ranking 200"));
            for (int i = 0; i < 5; i++) {
                example.stop();
                assertTrue(xen.timerProvider(), xen.timerProvider().matches("(precise|portable) \\(ranking .*"));
                Thread.sleep(50);
                example.start();
                assertTrue(xen.timerProvider(), xen.timerProvider().startsWith("scheduled-example"));
                Thread.sleep(50);
            }
            example.uninstall();
            kvm.stop();
            assertTrue("no provider: " + xen.timerProvider(), xen.timerProvider().startsWith("none"));
            Thread.sleep(100);
            kvm.start();
            ServiceReference<?> ref = host().awaitShutdown(5);
            assertEquals("poweroff", ref.getProperty("xen.shutdown"));
            assertArrayEquals("every tick handled once", new long[] {600, 600}, (long[]) ref.getProperty("xen.guest.ticks"));
            DomainHandle d = (DomainHandle) host().context.getService(ref);
            assertEquals("no timer event lost or fired twice", 600, d.timerTicks(0));
            assertEquals(600, d.timerTicks(1));
        } finally {
            if (kvm.getState() != Bundle.ACTIVE) {
                kvm.start();
            }
            config.delete();
        }
    }

    /** Swap (b): the echo backend's bundle is updated while the probe domain keeps sending. */
    @Test
    public void aBackendBundleUpdateTakesItsPortOverWithNothingLost() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        host().countEvents();
        try (ProbeDomain probe = new ProbeDomain(xen, 7)) {
            int port = probe.offerToHost();
            Bundle echo = host().install("echo.backend");
            var config = host().configure("xen.backend.echo", "dom7", Map.of("domid", 7, "port", port));
            try {
                Host.await("the echo backend's answer to its bind", () -> probe.raised(port) == 1);
                AtomicBoolean done = new AtomicBoolean();
                ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
                Thread updater = Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; i < 5 && !done.get(); i++) {
                            host().update(echo, "echo.backend");
                            Thread.sleep(20);
                        }
                    } catch (Throwable t) {
                        errors.add(t);
                    }
                });
                int events = 0;
                while (updater.isAlive() || events < 200) {
                    probe.pingPong(port, Host.WAIT_MS);
                    events++;
                }
                done.set(true);
                updater.join();
                assertEquals(List.of(), List.copyOf(errors));
                Thread.sleep(100);
                assertEquals(events, probe.sent(port));
                assertEquals("every event answered once (and the bind once)", events + 1, probe.raised(port));
            } finally {
                config.delete();
                echo.uninstall();
            }
        }
    }

    /**
     * Swap (d): the console backend's bundle is updated again and again while the reference guest
     * prints numbered lines on its console ring and echoes what is typed to it: every line
     * arrives once and in order, and every line typed during the swaps is echoed once.
     */
    @Test
    public void theConsoleBackendIsUpdatedMidStreamWithNothingLostOrDoubled() throws Exception {
        int total = 4000;
        var config = host().configure("xen.domain.reference", "dom9",
                Map.of("domid", 9, "vcpus", 1, "hz", 100, "seconds", 4, "ipis", false, "console.lines", total));
        Bundle console = Arrays.stream(host().context.getBundles()).filter(b -> b.getSymbolicName().equals("xen.console"))
                .findFirst().orElseThrow();
        try {
            DomainHandle d = (DomainHandle) host().context.getService(host().domainService(9));
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            d.console().attach(raw);
            List<String> typed = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String line = "typed during swap " + i;
                typed.add(line);
                byte[] bytes = (line + "\n").getBytes(StandardCharsets.US_ASCII);
                assertEquals(bytes.length, d.console().type(bytes, 0, bytes.length));
                host().update(console, "xen.console");
                Thread.sleep(150);
            }
            ServiceReference<?> ref = host().awaitShutdown(9);
            assertEquals("poweroff", ref.getProperty("xen.shutdown"));
            List<String> lines = List.of(raw.toString(StandardCharsets.US_ASCII).split("\n"));
            List<String> numbered = lines.stream().filter(l -> l.startsWith("line ")).toList();
            assertEquals(total, numbered.size());
            for (int i = 0; i < total; i++) {
                assertEquals("line " + (i + 1) + " of " + total, numbered.get(i));
            }
            assertEquals(typed, lines.stream().filter(l -> l.startsWith("echo ")).map(l -> l.substring(5)).toList());
            assertEquals(Bundle.ACTIVE, console.getState());
        } finally {
            config.delete();
        }
    }

    /**
     * The store's bundle is updated again and again while a guest keeps writing to its ring: every
     * write is acknowledged once, and the tree (the toolstack's nodes, the guest's, the host's) is
     * intact after.
     */
    @Test
    public void theStoreIsUpdatedMidStreamWithEveryWriteAcknowledgedOnce() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        Bundle store = Arrays.stream(host().context.getBundles()).filter(b -> b.getSymbolicName().equals("xen.store"))
                .findFirst().orElseThrow();
        try (ProbeDomain probe = new ProbeDomain(xen, 12)) {
            Host.await("xen.store writes dom12's tree", () -> {
                try {
                    return "dom12".equals(host().service(xen.evtchn.api.store.XenStore.class).readString("/local/domain/12/name"));
                } catch (RuntimeException e) {
                    return false;
                }
            });
            host().service(xen.evtchn.api.store.XenStore.class).write("/tool/itest", "kept");
            StoreClient guest = new StoreClient(probe);
            int writes = 300;
            java.util.concurrent.atomic.AtomicInteger acknowledged = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 1; i <= writes; i++) {
                        assertEquals("OK\0", guest.write("data/n", Integer.toString(i)));
                        acknowledged.incrementAndGet();
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            writer.start();
            for (int u = 0; u < 3; u++) {
                int before = acknowledged.get();
                Host.await("a write between updates", () -> acknowledged.get() > before || !writer.isAlive());
                host().update(store, "xen.store");
            }
            writer.join(Host.WAIT_MS);
            if (failure.get() != null) {
                throw new AssertionError("the guest's writer failed", failure.get());
            }
            assertEquals(writes, acknowledged.get());
            assertEquals(0, guest.unasked());
            assertEquals(Integer.toString(writes), guest.read("data/n"));
            assertEquals("dom12", guest.read("name"));
            assertEquals("kept", host().service(xen.evtchn.api.store.XenStore.class).readString("/tool/itest"));
            assertEquals(Bundle.ACTIVE, store.getState());
        }
    }

    /** Swap (c): a bundle adds a hypercall; its removal removes it. */
    @Test
    public void aHypercallComesAndGoesWithItsBundle() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        assertEquals(-Errno.ENOSYS, xen.hypercalls().hypercall(new Call(48, 21)));
        Bundle example = host().install("hypercall.example");
        Host.await("hypercall 48", () -> xen.hypercalls().hypercall(new Call(48, 21)) == 42);
        example.uninstall();
        assertEquals(-Errno.ENOSYS, xen.hypercalls().hypercall(new Call(48, 21)));
    }

    /** The xen:* commands through Gogo, on a probe domain whose ports are known. */
    @Test
    public void theShellCommandsShowTheHost() throws Exception {
        GuestHost xen = host().service(GuestHost.class);
        CommandProcessor gogo = host().service(CommandProcessor.class);
        host().countEvents();
        try (ProbeDomain probe = new ProbeDomain(xen, 11)) {
            int ipi = probe.events.bindIpi(0);
            int offered = probe.offerToHost();
            Host.await("the xen commands", () -> run(gogo, "xen:domains").contains("dom11"));
            String list = run(gogo, "xen:event-list 11");
            int console = (int) xen.domain(11).hvmParam(HvmParam.CONSOLE_EVTCHN);
            int store = (int) xen.domain(11).hvmParam(HvmParam.STORE_EVTCHN);
            assertTrue(list, list.startsWith("port    " + console + ": vcpu: 0 interdomain(0:"));
            // xen.store's component bound the store port the host offered, as xen.console the console's
            Host.await("xen.store binds dom11's store port",
                    () -> run(gogo, "xen:event-list 11").contains("port    " + store + ": vcpu: 0 interdomain(0:"));
            assertTrue(xen.domain(11).hvmParam(HvmParam.STORE_PFN) != 0);
            // xen.store wrote dom11's tree; its XenStore service and xen:store-* show it
            Host.await("xen:store-ls shows dom11's name",
                    () -> run(gogo, "xen:store-ls /local/domain/11").contains("\nname = \"dom11\"\n"));
            assertEquals("dom11", host().service(xen.evtchn.api.store.XenStore.class).readString("/local/domain/11/name"));
            run(gogo, "xen:store-write /local/domain/11/data/shell hello");
            assertEquals("hello", run(gogo, "xen:store-read /local/domain/11/data/shell"));
            run(gogo, "xen:store-rm /local/domain/11/data/shell");
            assertTrue(failure(gogo, "xen:store-read /local/domain/11/data/shell").contains("no such node"));
            // xen:shutdown: dom11 does not watch control/shutdown, so no acknowledgement and the request withdrawn;
            // then its guest side takes one (reading and emptying the node, as manage.c does on its watch)
            assertTrue(run(gogo, "xen:shutdown -t 0.2 11").startsWith("dom11 did not acknowledge poweroff within 200 ms"));
            assertEquals("", run(gogo, "xen:store-read /local/domain/11/control/shutdown"));
            StoreClient dom11 = new StoreClient(probe);
            java.util.concurrent.CompletableFuture<String> reboot = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> run(gogo, "xen:shutdown -t 20 dom11 reboot"));
            Host.await("the reboot request in dom11's control/shutdown", () -> dom11.read("control/shutdown").equals("reboot"));
            assertEquals("OK\0", dom11.write("control/shutdown", ""));
            String acknowledged = reboot.get(Host.WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            assertTrue(acknowledged, acknowledged.startsWith("dom11 acknowledged reboot"));
            assertTrue(failure(gogo, "xen:shutdown 99").contains("no domain 99 in XenStore"));
            // xen.bus: the toolstack adds a device of a type no backend serves; xen:devices shows it
            host().service(xen.evtchn.api.bus.XenBus.class).add(new xen.evtchn.api.bus.DeviceNodes(11, "vif", 0,
                    java.util.Map.of(), java.util.Map.of("mac", "00:16:3e:00:00:01")));
            assertTrue(run(gogo, "xen:devices").contains("\n11     vif      0          Initialising  Initialising  no"));
            assertEquals("00:16:3e:00:00:01", run(gogo, "xen:store-read /local/domain/11/device/vif/0/mac"));
            list = run(gogo, "xen:event-list 11");
            assertTrue(list, list.endsWith("port    " + ipi + ": vcpu: 0 ipi\nport    " + offered + ": vcpu: 0 unbound(0:0)\n"));
            assertEquals(list, 4, list.lines().count());
            assertTrue(run(gogo, "xen:event-inject 11 " + ipi).contains("ipi PENDING"));
            assertTrue(run(gogo, "xen:stats dom11").contains(String.format("      %4d  ipi         %-11d %d", ipi, 0, 1)));
            assertTrue(run(gogo, "xen:timers 11").startsWith("dom11 vcpu0   singleshot -"));
            assertTrue(run(gogo, "xen:providers").startsWith("timers run on: " + xen.timerProvider()));
            assertTrue(failure(gogo, "xen:event-inject 11 abc").contains("port must be a number 1..2147483647: got \"abc\""));
            assertTrue(failure(gogo, "xen:event-list 99").contains("no domain 99 (see xen:domains)"));
        }
    }

    private static String run(CommandProcessor gogo, String command) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        try (CommandSession session = gogo.createSession(System.in, print, print)) {
            Object result = session.execute(command);
            return result == null ? out.toString(StandardCharsets.UTF_8) : String.valueOf(result);
        } catch (Exception e) {
            throw new AssertionError(command + ": " + e, e);
        }
    }

    private static String failure(CommandProcessor gogo, String command) {
        try (CommandSession session = gogo.createSession(System.in, System.out, System.err)) {
            Object result = session.execute(command);
            throw new AssertionError(command + " should have failed, printed " + result);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (Exception e) {
            return String.valueOf(e.getMessage());
        }
    }

    /** A hypercall from dom1 vCPU 0 at CPL 0 with one argument. */
    private record Call(int number, long arg0) implements HypercallContext {
        @Override
        public int domid() {
            return 1;
        }

        @Override
        public int vcpu() {
            return 0;
        }

        @Override
        public boolean longMode() {
            return true;
        }

        @Override
        public int cpl() {
            return 0;
        }

        @Override
        public long arg(int index) {
            return index == 0 ? arg0 : 0;
        }

        @Override
        public MemorySegment guest(long address, long length) {
            return null;
        }
    }
}
