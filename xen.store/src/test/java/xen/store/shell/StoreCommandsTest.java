package xen.store.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;
import xen.store.backend.ControlGuest;
import xen.store.backend.StoreBackend;

/** The xen:store-* and xen:shutdown commands on the XenStore service of a store serving a real host. */
class StoreCommandsTest {
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final HostComponent host = new HostComponent(timers);
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final StoreBackend store = new StoreBackend(host, host, host, log::add);
    private final StoreCommands xen = new StoreCommands(store);

    @AfterEach
    void tearDown() {
        host.removeListener(store);
        store.deactivate();
        timers.close();
        assertEquals(List.of(), log);
    }

    @Test
    void lsShowsABootedDomainsTree() throws Exception {
        host.addListener(store);
        try (SoftwareBackend vcpus = new SoftwareBackend(7, 1, 64 << 10, host.hypercalls())) {
            host.createDomain(7, vcpus, line -> { });
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!store.domains().contains(7) && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            String ls = xen._main("store-ls", "/local/domain/7");
            assertTrue(ls.contains("\nname = \"dom7\"\n"), ls);
            assertTrue(ls.startsWith("control = \"\"\n shutdown = \"\"\ncpu = \"\"\n 0 = \"\"\n  availability = \"online\"\n"), ls);
            assertEquals("dom7", xen._main("store-read", "/local/domain/7/name"));
            host.destroyDomain(7);
        }
    }

    private String fails(String... argv) {
        return assertThrows(IllegalArgumentException.class, () -> xen._main(argv)).getMessage();
    }

    @Test
    void lsShowsTheTreeBelowAPathIndentedWithQuotedValues() {
        assertNull(xen._main("store-write", "/local/domain/3/name", "dom3"));
        xen._main("store-write", "/local/domain/3/memory/target", "65536");
        xen._main("store-write", "/local/domain/3/odd", "a\"b\\c\n\u0001");
        assertEquals(String.join("\n",
                "memory = \"\"",
                " target = \"65536\"",
                "name = \"dom3\"",
                "odd = \"a\\\"b\\\\c\\x0a\\x01\"", ""), xen._main("store-ls", "/local/domain/3"));
        assertEquals(String.join("\n",
                "local = \"\"",
                " domain = \"\"",
                "  3 = \"\"",
                "   memory = \"\"",
                "    target = \"65536\"",
                "   name = \"dom3\"",
                "   odd = \"a\\\"b\\\\c\\x0a\\x01\"", ""), xen._main("store-ls"));
        assertEquals(xen._main("store-ls"), xen._main("store-ls", "/"));
        assertEquals("", xen._main("store-ls", "/local/domain/3/name"), "a leaf lists nothing below it");
    }

    @Test
    void readWriteAndRm() {
        xen._main("store-write", "/tool/x", "hello world");
        assertEquals("hello world", xen._main("store-read", "/tool/x"));
        assertNull(xen._main("store-rm", "/tool"));
        assertEquals("xen:store-read: no such node: read /tool/x (ENOENT)", fails("store-read", "/tool/x"));
    }

    @Test
    void badInputIsAClearMessage() {
        assertEquals("usage: xen:store-read PATH", fails("store-read"));
        assertEquals("usage: xen:store-write PATH VALUE", fails("store-write", "/a"));
        assertEquals("usage: xen:store-rm PATH", fails("store-rm"));
        assertEquals("usage: xen:store-ls [PATH]", fails("store-ls", "/a", "/b"));
        assertEquals("no command xen:store-nope", fails("store-nope"));
        assertEquals("xen:store-ls: no such node: directory /nope (ENOENT)", fails("store-ls", "/nope"));
        assertEquals("xen:store-write: invalid path or value: write /a//b (EINVAL)", fails("store-write", "/a//b", "v"));
        assertEquals("xen:store-rm: invalid path or value: rm / (EINVAL)", fails("store-rm", "/"));
        assertEquals("xen:store-read: invalid path or value: read bad path (EINVAL)", fails("store-read", "bad path"));
    }

    private DomainHandle booted(int domid, SoftwareBackend vcpus) throws InterruptedException {
        host.addListener(store);
        DomainHandle d = host.createDomain(domid, vcpus, line -> { });
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!store.domains().contains(domid) && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        return d;
    }

    @Test
    void shutdownAsksTheGuestAndSaysWhetherItAcknowledged() throws Exception {
        try (SoftwareBackend vcpus = new SoftwareBackend(7, 1, 64 << 10, host.hypercalls())) {
            DomainHandle d = booted(7, vcpus);
            String late = xen._main("shutdown", "-t", "0.2", "dom7");
            assertEquals("dom7 did not acknowledge poweroff within 200 ms: no PV control (its drivers do not watch"
                    + " control/shutdown, or not yet); the request was withdrawn", late);
            assertEquals("", xen._main("store-read", "/local/domain/7/control/shutdown"));
            try (ControlGuest guest = ControlGuest.start(host, d)) {
                String ack = xen._main("shutdown", "7", "reboot");
                assertTrue(ack.matches("dom7 acknowledged reboot \\(after \\d+ ms\\)"), ack);
                long deadline = System.nanoTime() + 20_000_000_000L; // it records after its commit's reply
                while (guest.taken().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                assertEquals(List.of("reboot"), guest.taken());
            }
            host.destroyDomain(7);
        }
    }

    @Test
    void shutdownRefusesBadArgumentsAndUnknownDomains() {
        String usage = "usage: xen:shutdown [-t SECONDS] DOMID [poweroff|reboot]";
        assertEquals(usage, fails("shutdown"));
        assertEquals(usage, fails("shutdown", "-t"));
        assertEquals(usage, fails("shutdown", "-t", "2"));
        assertEquals(usage, fails("shutdown", "7", "reboot", "now"));
        assertEquals("no domain 42 in XenStore: /local/domain/42 does not exist (see xen:domains)", fails("shutdown", "42"));
        assertEquals("domid must be a number 1..32751: got \"0\"", fails("shutdown", "0"));
        assertEquals("domid must be a number 1..32751: got \"abc\"", fails("shutdown", "abc", "poweroff"));
        assertEquals("the request must be one of poweroff, reboot: got \"halt\"", fails("shutdown", "42", "halt"));
        assertEquals("-t takes seconds above 0 and at most 60: got \"0\"", fails("shutdown", "-t", "0", "42"));
        assertEquals("-t takes seconds above 0 and at most 60: got \"NaN\"", fails("shutdown", "-t", "NaN", "42"));
        assertEquals("-t takes seconds above 0 and at most 60: got \"61\"", fails("shutdown", "-t", "61", "42"));
    }
}
