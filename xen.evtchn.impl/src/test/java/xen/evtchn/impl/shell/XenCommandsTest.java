package xen.evtchn.impl.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.EventChannels;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.HvmParam;
import xen.evtchn.api.abi.Virq;
import xen.evtchn.api.backend.EvtchnHandle;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.impl.host.HostComponent;
import xen.evtchn.impl.time.ManualTimerProvider;

/** The xen:* commands on a host with one domain whose ports the test binds as its guest would. */
class XenCommandsTest {
    final ManualTimerProvider timers = new ManualTimerProvider(0);
    final HostComponent host = new HostComponent(timers, true);
    final SoftwareBackend vcpus = new SoftwareBackend(4, 2, 1 << 20, host.hypercalls());
    final XenCommands xen = new XenCommands(host, host);
    final DomainHandle dom = host.createDomain(4, vcpus, line -> { });
    final EventChannels ev = dom.eventChannels();

    final SoftwareBackend other = new SoftwareBackend(5, 1, 1 << 20, host.hypercalls());

    @AfterEach
    void tearDown() {
        host.destroyDomain(4);
        host.destroyDomain(5);
        vcpus.close();
        other.close();
    }

    @Test
    void eventListIsQemusFormat() throws Exception {
        int timer = ev.bindVirq(Virq.TIMER.number(), 1);
        int ipi = ev.bindIpi(0);
        int console = (int) dom.hvmParam(HvmParam.CONSOLE_EVTCHN);
        int store = (int) dom.hvmParam(HvmParam.STORE_EVTCHN);
        int offered = ev.allocUnbound(DomId.SELF, DomId.HOST);
        int loop = ev.allocUnbound(DomId.SELF, DomId.SELF);
        int peer = ev.bindInterdomain(DomId.SELF, loop);
        ev.send(ipi);
        String list = xen._main("event-list");
        assertEquals(String.join("\n",
                "port    " + console + ": vcpu: 0 unbound(0:0)",
                "port    " + store + ": vcpu: 0 unbound(0:0)",
                "port    " + timer + ": vcpu: 1 virq(0)",
                "port    " + ipi + ": vcpu: 0 ipi PENDING",
                "port    " + offered + ": vcpu: 0 unbound(0:0)",
                "port    " + loop + ": vcpu: 0 interdomain(4:" + peer + ")",
                "port    " + peer + ": vcpu: 0 interdomain(4:" + loop + ") PENDING", ""), list);
        assertEquals(list, xen._main("event-list", "4"));
        assertEquals(list, xen._main("event-list", "dom4"));
    }

    @Test
    void injectRaisesAPortAndStatsCountIt() {
        int ipi = ev.bindIpi(1);
        String injected = xen._main("event-inject", String.valueOf(ipi));
        assertEquals("injected: port    " + ipi + ": vcpu: 1 ipi PENDING", injected);
        ev.send(ipi);
        String stats = xen._main("stats", "4");
        assertTrue(stats.contains(String.format("      %4d  ipi         %-11d %d", ipi, 1, 2)), stats);
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        assertMessage("port must be a number 1..2147483647: got \"abc\"", "event-inject", "abc");
        assertMessage("dom4 port 77: -EINVAL (not a port in use; see xen:event-list)",
                "event-inject", "77");
        assertMessage("no domain 99 (see xen:domains)", "event-list", "99");
        assertMessage("domid must be a number 0..32751: got \"dom\"", "timers", "domdom");
        assertMessage("usage: xen:event-inject [DOMID] PORT", "event-inject");
        assertMessage("usage: xen:domains", "domains", "x");
        host.createDomain(5, other, line -> { });
        assertMessage("there are 2 domains: name one ([dom4, dom5])", "event-list");
    }

    private void assertMessage(String expected, String... argv) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> xen._main(argv)).getMessage());
    }

    @Test
    void domainsTimersAndProviders() throws Exception {
        // two ports: the console's and xenstore's, offered to the host as the toolstack does for every domain
        assertTrue(xen._main("domains").startsWith("dom4     vcpus 2   running   ports 2     timer events 0,0"),
                xen._main("domains"));
        String t = xen._main("timers");
        assertEquals(2, t.lines().count(), t);
        assertTrue(t.startsWith("dom4 vcpu0   singleshot -"), t);
        xen.addProvider(timers, Map.of("service.id", 12L, "provider.name", "precise", "service.ranking", 100));
        try (EvtchnHandle h = host.open("blk")) {
            int offered = ev.allocUnbound(DomId.SELF, DomId.HOST);
            int port = h.bindInterdomain(4, offered);
            String p = xen._main("providers");
            assertTrue(p.startsWith("timers run on: ManualTimerProvider (ranking 0)\n"), p);
            assertTrue(p.contains("  service.id 12   precise            ranking 100\n"), p);
            assertTrue(p.contains("  blk  open  port " + port + " -> dom4:" + offered + "\n"), p);
            h.detach();
            assertTrue(xen._main("providers").contains("  blk  parked  port " + port), xen._main("providers"));
        }
    }

    @Test
    void statsSayWhenTheHostDoesNotCount() {
        HostComponent quiet = new HostComponent(timers);
        SoftwareBackend b = new SoftwareBackend(6, 1, 1 << 20, quiet.hypercalls());
        try {
            quiet.createDomain(6, b, line -> { });
            int ipi = quiet.domain(6).eventChannels().bindIpi(0);
            quiet.domain(6).eventChannels().send(ipi);
            String stats = new XenCommands(quiet, quiet)._main("stats");
            assertTrue(stats.startsWith("(the host does not count events: stats=true in configuration xen.host turns it on)\n"),
                    stats);
            assertEquals(0, quiet.domain(6).port(ipi).sent(), "nothing counted");
        } finally {
            quiet.destroyDomain(6);
            b.close();
        }
    }

    @Test
    void aDomainWithoutPortsSaysSo() {
        ev.close((int) dom.hvmParam(HvmParam.CONSOLE_EVTCHN));
        ev.close((int) dom.hvmParam(HvmParam.STORE_EVTCHN));
        assertEquals("dom4: no ports in use", xen._main("event-list"));
    }
}
