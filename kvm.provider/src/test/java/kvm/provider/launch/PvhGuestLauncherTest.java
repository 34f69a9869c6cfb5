package kvm.provider.launch;

import static kvm.provider.kvm.KvmTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import kvm.provider.boot.PvhImage;
import kvm.provider.boot.PvhImageTest;
import kvm.provider.kvm.KvmSystem;
import kvm.provider.xen.KvmGuest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import xen.evtchn.api.VcpuBackend;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.api.bus.DeviceNodes;
import xen.evtchn.api.bus.DeviceStatus;
import xen.evtchn.api.bus.DiskSpec;
import xen.evtchn.api.bus.XenBus;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.GuestHost;

/**
 * {@link PvhGuestLauncher} with a fake host and a fake framework: what it registers, and how the
 * registration follows the guest. The boots on real KVM are skipped where /dev/kvm is unusable.
 */
class PvhGuestLauncherTest {
    /** A registration: its properties over time, and whether it was unregistered. */
    static final class Registration {
        final List<Map<String, Object>> properties = new CopyOnWriteArrayList<>();
        volatile Object service;
        volatile boolean unregistered;

        Map<String, Object> last() {
            return properties.getLast();
        }
    }

    final List<Registration> registrations = new CopyOnWriteArrayList<>();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final FakeHost host = new FakeHost();

    /** A BundleContext that only registers services (the component needs nothing else). */
    BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "registerService" -> {
                        Registration r = new Registration();
                        r.service = args[1];
                        r.properties.add(map((Dictionary<?, ?>) args[2]));
                        registrations.add(r);
                        yield registration(r);
                    }
                    case "toString" -> "fake context";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private ServiceRegistration<?> registration(Registration r) {
        return (ServiceRegistration<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "setProperties" -> {
                        if (r.unregistered) {
                            throw new IllegalStateException("unregistered");
                        }
                        r.properties.add(map((Dictionary<?, ?>) args[0]));
                        yield null;
                    }
                    case "unregister" -> {
                        if (r.unregistered) {
                            throw new IllegalStateException("unregistered");
                        }
                        r.unregistered = true;
                        yield null;
                    }
                    case "toString" -> "fake registration";
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static Map<String, Object> map(Dictionary<?, ?> d) {
        Map<String, Object> m = new java.util.HashMap<>();
        for (Object key : Collections.list(d.keys())) {
            m.put((String) key, d.get(key));
        }
        return m;
    }

    /** A host whose hypercalls all fail with ENOSYS and whose domains are shut down by the test. */
    static final class FakeHost implements GuestHost {
        final List<Integer> destroyed = new CopyOnWriteArrayList<>();
        volatile FakeDomain domain;

        @Override
        public xen.evtchn.api.HypercallHandler hypercalls() {
            return call -> -38;
        }

        @Override
        public DomainHandle createDomain(int domid, VcpuBackend vcpus, java.util.function.Consumer<String> console,
                String xenVersion) {
            domain = new FakeDomain(domid, vcpus.vcpuCount(), console);
            return domain;
        }

        @Override
        public DomainHandle restoreDomain(int domid, byte[] stream, VcpuBackend vcpus,
                java.util.function.Consumer<String> console) {
            throw new UnsupportedOperationException("not used by the launcher");
        }

        @Override
        public boolean destroyDomain(int domid) {
            destroyed.add(domid);
            return true;
        }

        @Override
        public List<DomainHandle> domains() {
            return domain == null ? List.of() : List.of(domain);
        }

        @Override
        public DomainHandle domain(int domid) {
            return domain != null && domain.domid == domid ? domain : null;
        }

        @Override
        public String timerProvider() {
            return "none";
        }

        @Override
        public boolean countsEvents() {
            return false;
        }
    }

    static final class FakeDomain implements DomainHandle {
        final int domid;
        final int vcpus;
        final java.util.function.Consumer<String> console;
        final List<IntConsumer> listeners = new ArrayList<>();
        volatile int reason = RUNNING;

        FakeDomain(int domid, int vcpus, java.util.function.Consumer<String> console) {
            this.domid = domid;
            this.vcpus = vcpus;
            this.console = console;
        }

        @Override
        public int domid() {
            return domid;
        }

        @Override
        public int vcpuCount() {
            return vcpus;
        }

        @Override
        public long timerTicks(int vcpu) {
            return 0;
        }

        @Override
        public int shutdownReason() {
            return reason;
        }

        @Override
        public synchronized void onShutdown(IntConsumer listener) {
            listeners.add(listener);
        }

        @Override
        public List<xen.evtchn.api.host.PortInfo> ports() {
            return List.of();
        }

        @Override
        public xen.evtchn.api.host.PortInfo port(int port) {
            return null;
        }

        @Override
        public int inject(int port) {
            return -22;
        }

        @Override
        public byte[] save() {
            throw new UnsupportedOperationException("not used by the launcher");
        }

        @Override
        public long hvmParam(int index) {
            throw new UnsupportedOperationException("not used by the launcher");
        }

        @Override
        public xen.evtchn.api.host.GuestConsole console() {
            throw new UnsupportedOperationException("not used by the launcher");
        }

        @Override
        public xen.evtchn.api.host.VcpuTimerInfo timers(int vcpu) {
            throw new UnsupportedOperationException();
        }

        @Override
        public xen.evtchn.api.EventChannels eventChannels() {
            throw new UnsupportedOperationException();
        }

        /** As SCHEDOP_shutdown would. */
        @Override
        public synchronized void shutdown(int why) {
            reason = why;
            listeners.forEach(l -> l.accept(why));
        }
    }

    /** A bus that records what the toolstack asks of it; null if the host has none. */
    FakeBus bus = new FakeBus();
    /** How often the launcher asked for the bus. */
    final AtomicInteger busLookups = new AtomicInteger();

    PvhGuestLauncher launcher(Map<String, String> properties, String kvmUnavailable) {
        return new PvhGuestLauncher(host, context(), PvhGuestSettings.from(properties), () -> kvmUnavailable,
                () -> {
                    busLookups.incrementAndGet();
                    return bus;
                },
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    /** A XenBus that records adds (with whether the domain existed then) and removes, or refuses adds. */
    static class FakeBus implements XenBus {
        final List<DeviceNodes> added = new CopyOnWriteArrayList<>();
        final List<String> removed = new CopyOnWriteArrayList<>();
        volatile String refuse;
        volatile FakeHost host;

        @Override
        public void add(DeviceNodes device) {
            if (refuse != null) {
                throw new IllegalArgumentException(refuse);
            }
            if (host != null && host.domain(device.domid()) == null) {
                throw new IllegalArgumentException("no domain " + device.domid());
            }
            added.add(device);
        }

        @Override
        public boolean remove(int domid, String type, int devid, long timeoutMillis) {
            removed.add(domid + "/" + type + "/" + devid + " in " + timeoutMillis + " ms");
            return false;
        }

        @Override
        public List<DeviceStatus> devices() {
            return List.of();
        }
    }

    static Map<String, String> kernel(Path file) {
        return Map.of("domid", "1", "kernel", file.toString(), "memory", "4");
    }

    @Test
    void propertiesAreTheReferenceGuestsNames() {
        assertEquals(Map.of("xen.domain", 1, "xen.guest", "kernel"), map(PvhGuestLauncher.properties(1, null)));
        assertEquals(Map.of("xen.domain", 1, "xen.guest", "kernel", "xen.shutdown", "poweroff", "xen.shutdown.code", 0),
                map(PvhGuestLauncher.properties(1, new KvmGuest.Outcome(SchedOp.SHUTDOWN_POWEROFF, null))));
        assertEquals(Map.of("xen.domain", 1, "xen.guest", "kernel", "xen.shutdown", "crash", "xen.shutdown.code", 3,
                "xen.failure", "dom1 vcpu0: triple fault"),
                map(PvhGuestLauncher.properties(1, new KvmGuest.Outcome(SchedOp.SHUTDOWN_CRASH, "dom1 vcpu0: triple fault"))));
    }

    @Test
    void aMissingImageFailsTheActivationNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("missing.elf");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> launcher(kernel(missing), null));
        assertEquals("configuration xen.domain.kernel: kernel: " + missing + " does not exist", e.getMessage());
        assertEquals(List.of(), registrations);
        assertNull(host.domain);
    }

    /** kernel(file) with disk = disks. */
    static Map<String, String> withDisk(Path kernel, String disk) {
        Map<String, String> p = new java.util.HashMap<>(kernel(kernel));
        p.put("disk", disk);
        return p;
    }

    @Test
    void aMissingDiskFailsTheActivationBeforeAnythingIsMade(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        Path missing = dir.resolve("missing.img");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> launcher(withDisk(file, missing.toString()), null));
        assertEquals("configuration xen.domain.kernel: disk xvda (" + missing + "): no such file", e.getMessage());
        Path small = Files.write(dir.resolve("small.img"), new byte[100]);
        e = assertThrows(IllegalArgumentException.class, () -> launcher(withDisk(file, small + ",ro,vdev=xvdc"), null));
        assertEquals("configuration xen.domain.kernel: disk xvdc (" + small + "): 100 bytes, less than one 512-byte sector",
                e.getMessage());
        assertEquals(List.of(), registrations);
        assertNull(host.domain);
        assertEquals(0, busLookups.get());
    }

    @Test
    void disksWithoutABusFailTheActivationNamingTheBundleBeforeKvmIsAsked(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
        bus = null;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> launcher(withDisk(file, image.toString()), "/dev/kvm does not exist"));
        assertEquals("configuration xen.domain.kernel: disk needs the XenBus service, and none is registered:"
                + " add bundle xen.bus (and the backends: xen.block for disks, xen.console for consoles) to the host", e.getMessage());
        assertEquals(List.of(), registrations);
        assertNull(host.domain);
    }

    @Test
    void noDisksNeedNoBus(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        bus = null;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> launcher(kernel(file), "no KVM"));
        assertEquals("xen.domain.kernel: a kernel domain needs KVM, which is not usable here: no KVM", e.getMessage(),
                "refused for KVM only");
        assertEquals(0, busLookups.get(), "the bus is not even asked for");
    }

    @Test
    void disksWithABusStillNeedKvmAndAddNothingWithout(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
        assertThrows(IllegalStateException.class, () -> launcher(withDisk(file, image.toString()), "no KVM"));
        assertEquals(List.of(), bus.added);
        assertNull(host.domain);
    }

    @Test
    void unusableKvmFailsTheActivationSayingWhy(@TempDir Path dir) throws IOException {
        Path file = Files.write(dir.resolve("pvh.elf"), PvhImageTest.image(true, 8).build());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> launcher(kernel(file), "/dev/kvm does not exist"));
        assertEquals("xen.domain.kernel: a kernel domain needs KVM, which is not usable here: /dev/kvm does not exist",
                e.getMessage());
        assertEquals(List.of(), registrations);
    }

    /** A PVH image whose code at the entry is {@code code}. */
    static Path image(Path dir, byte[] code) throws IOException {
        byte[] elf = new PvhImageTest.Elf(true).load(PvhImageTest.ENTRY, code, 0x1000)
                .notes(4, PvhImageTest.note("Xen", PvhImage.XEN_ELFNOTE_HYPERCALL_PAGE, PvhImageTest.le(0x1000, 8), 4),
                        PvhImageTest.note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, PvhImageTest.le(PvhImageTest.ENTRY, 8), 4))
                .build();
        return Files.write(dir.resolve("guest.elf"), elf);
    }

    static void kvmHere() {
        String why = KvmSystem.unavailableReason();
        assumeTrue(why == null, () -> "KVM not usable here, skipped: " + why);
    }

    /** Waits up to 10 s for the registration to carry xen.shutdown. */
    static Map<String, Object> awaitEnd(Registration r) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!r.last().containsKey("xen.shutdown")) {
            assertTrue(System.nanoTime() < deadline, () -> "no end within 10 s: " + r.properties);
            Thread.sleep(10);
        }
        return r.last();
    }

    @Test
    void aPoweroffIsRegisteredAndDeactivationCleansUp(@TempDir Path dir) throws IOException, InterruptedException {
        kvmHere();
        PvhGuestLauncher l = launcher(kernel(image(dir, bytes(0xeb, 0xfe))), null); // jmp $
        try {
            assertEquals(1, registrations.size());
            Registration r = registrations.getFirst();
            assertEquals(Map.of("xen.domain", 1, "xen.guest", "kernel"), r.properties.getFirst());
            assertEquals(host.domain, r.service, "the domain's handle is the service");
            String log = err.toString(StandardCharsets.UTF_8);
            assertTrue(log.startsWith("kvm: dom1: KVM, 1 vCPU(s), 4 MiB, hypercalls trapped"), log);

            host.domain.shutdown(SchedOp.SHUTDOWN_POWEROFF);
            assertEquals(Map.of("xen.domain", 1, "xen.guest", "kernel", "xen.shutdown", "poweroff", "xen.shutdown.code", 0),
                    awaitEnd(r));
        } finally {
            l.deactivate();
        }
        assertTrue(registrations.getFirst().unregistered);
        assertEquals(List.of(1), host.destroyed);
        l.deactivate(); // again: nothing happens
        assertEquals(List.of(1), host.destroyed);
    }

    @Test
    void disksAreAddedToTheNewDomainAndRemovedBeforeItGoes(@TempDir Path dir) throws IOException {
        kvmHere();
        Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
        bus.host = host;
        Map<String, String> p = new java.util.HashMap<>(kernel(image(dir, bytes(0xeb, 0xfe))));
        p.put("disk", image + ",ro");
        PvhGuestLauncher l = launcher(p, null);
        try {
            assertEquals(List.of(DiskSpec.parse(image + ",ro").nodes(1)), bus.added, "added while the domain existed");
        } finally {
            l.deactivate();
        }
        assertEquals(List.of("1/vbd/51712 in 0 ms"), bus.removed);
        assertEquals(List.of(1), host.destroyed);
    }

    @Test
    void aDiskTheBusRefusesFailsTheBootAndDestroysTheDomain(@TempDir Path dir) throws IOException {
        kvmHere();
        Path image = Files.write(dir.resolve("disk.img"), new byte[4096]);
        bus.refuse = "dom1 has a vbd 51712 already";
        Map<String, String> p = new java.util.HashMap<>(kernel(image(dir, bytes(0xeb, 0xfe))));
        p.put("disk", image.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> launcher(p, null));
        assertTrue(e.getMessage().endsWith("disk xvda (" + image + "): the bus refused it: dom1 has a vbd 51712 already"),
                e.getMessage());
        assertEquals(List.of(1), host.destroyed);
        assertEquals(List.of(), registrations);
    }

    @Test
    void aFaultIsACrashWithTheFailure(@TempDir Path dir) throws IOException, InterruptedException {
        kvmHere();
        PvhGuestLauncher l = launcher(kernel(image(dir, bytes(0x0f, 0x0b))), null); // ud2, and no usable IDT
        try {
            Map<String, Object> end = awaitEnd(registrations.getFirst());
            assertEquals("crash", end.get("xen.shutdown"));
            assertEquals(SchedOp.SHUTDOWN_CRASH, end.get("xen.shutdown.code"));
            String failure = (String) end.get("xen.failure");
            assertTrue(failure != null && failure.startsWith("dom1 vcpu0: "), "the failure: " + end);
            String log = err.toString(StandardCharsets.UTF_8);
            assertTrue(log.contains("kvm: " + failure), "logged once, as the host's message:\n" + log);
            assertTrue(!log.contains("crashed"), log);
        } finally {
            l.deactivate();
        }
        assertTrue(registrations.getFirst().unregistered);
    }

    @Test
    void deactivatingARunningGuestStopsItWithoutAnEnd(@TempDir Path dir) throws IOException {
        kvmHere();
        PvhGuestLauncher l = launcher(kernel(image(dir, bytes(0xeb, 0xfe))), null);
        l.deactivate();
        Registration r = registrations.getFirst();
        assertTrue(r.unregistered);
        assertEquals(1, r.properties.size(), "no shutdown was reported: " + r.properties);
        assertEquals(List.of(1), host.destroyed);
    }

    @Test
    void anImageThatDoesNotFitFailsTheActivationNamingTheFile(@TempDir Path dir) throws IOException {
        kvmHere();
        byte[] elf = new PvhImageTest.Elf(true).load(0x1000, PvhImageTest.CODE, 0x100)
                .notes(4, PvhImageTest.note("Xen", PvhImage.XEN_ELFNOTE_PHYS32_ENTRY, PvhImageTest.le(0x1000, 8), 4))
                .build();
        Path file = Files.write(dir.resolve("low.elf"), elf);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> launcher(kernel(file), null));
        assertTrue(e.getMessage().startsWith("xen.domain.kernel: cannot boot " + file + " with 1 vCPU(s) and 4 MiB on KVM: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("below 1 MiB"), e.getMessage());
        assertEquals(List.of(), registrations);
        assertNull(host.domain, "refused before a domain was made");
    }
}
