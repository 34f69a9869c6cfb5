package xen.evtchn.impl.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import kvm.provider.software.SoftwareBackend;
import kvm.provider.timer.PortableTimerProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.host.DomainHandle;
import xen.evtchn.api.host.DomainListener;
import xen.evtchn.api.host.DomainStatePart;
import xen.evtchn.api.host.SaveStreamException;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.save.StreamSeal;

/**
 * Bundles' parts of a save stream (api DomainStatePart): a part's record goes with the domain and
 * comes back to the part of its name, after the domain exists and before the listeners hear of it;
 * a mandatory part no bundle provides, or one its part refuses, refuses the restore with nothing
 * made; an optional one is skipped; a parked state stands in for an absent part and goes with its
 * domain.
 */
class StatePartsTest {
    private static final long RAM = 64 << 10;
    private final PortableTimerProvider timers = new PortableTimerProvider();
    private final List<HostComponent> hosts = new ArrayList<>();
    private final List<SoftwareBackend> backends = new ArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        for (HostComponent h : hosts) {
            h.deactivate();
        }
        backends.forEach(SoftwareBackend::close);
        timers.close();
    }

    private HostComponent host() {
        HostComponent h = new HostComponent(timers);
        hosts.add(h);
        h.addListener(new DomainListener() {
            @Override
            public void domainCreated(DomainHandle domain) {
                events.add("created " + domain.domid());
            }

            @Override
            public void domainDestroyed(DomainHandle domain) {
                events.add("destroyed " + domain.domid());
            }
        });
        return h;
    }

    private SoftwareBackend vcpus(HostComponent h, int domid) {
        SoftwareBackend b = new SoftwareBackend(domid, 1, RAM, h.hypercalls());
        backends.add(b);
        return b;
    }

    /** A part that saves its text for every domain and records what the host asks of it. */
    private class TextPart implements DomainStatePart {
        final String name;
        final boolean mandatory;
        final HostComponent host;

        TextPart(String name, boolean mandatory, HostComponent host) {
            this.name = name;
            this.mandatory = mandatory;
            this.host = host;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean mandatory() {
            return mandatory;
        }

        @Override
        public byte[] save(int domid) {
            return (name + " of dom" + domid).getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        public Restore prepare(int domid, int savedDomid, byte[] state) {
            String text = new String(state, StandardCharsets.US_ASCII);
            if (!text.startsWith(name)) {
                throw new SaveStreamException(name + ": not my state: " + text);
            }
            events.add("prepare " + domid + " from " + savedDomid + ": " + text + (host.domain(domid) == null ? "" : " (exists!)"));
            return () -> events.add("apply " + domid + (host.domain(domid) == null ? " (missing!)" : ""));
        }
    }

    private byte[] savedWith(DomainStatePart... parts) {
        HostComponent a = host();
        for (DomainStatePart p : parts) {
            a.addPart(p);
        }
        DomainHandle d = a.createDomain(3, vcpus(a, 3), line -> { });
        byte[] stream = d.save();
        a.destroyDomain(3);
        events.clear();
        return stream;
    }

    @Test
    void aPartsRecordComesBackToThePartOfItsNameBeforeTheListenersHearOfTheDomain() {
        byte[] stream = savedWith(new TextPart("b.part", true, null), new TextPart("a-part", false, null));
        List<Integer> types = StreamSeal.records(stream).stream().map(at -> StreamSeal.type(stream, at)).toList();
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 10, 10, 0), types);
        int first = StreamSeal.records(stream).get(7);
        assertEquals(StreamSeal.OPTIONAL, stream[first + 2], "a-part is optional, and first: names ascend");
        assertEquals(0, stream[StreamSeal.records(stream).get(8) + 2], "b.part is mandatory");
        HostComponent b = host();
        b.addPart(new TextPart("a-part", false, b));
        b.addPart(new TextPart("b.part", true, b));
        b.restoreDomain(5, stream, vcpus(b, 5), line -> { });
        assertEquals(List.of("prepare 5 from 3: a-part of dom3", "prepare 5 from 3: b.part of dom3", "apply 5", "apply 5",
                "created 5"), events);
    }

    @Test
    void aMandatoryPartNoBundleProvidesRefusesTheRestoreAnOptionalOneIsSkipped() {
        byte[] stream = savedWith(new TextPart("xen.store", true, null));
        HostComponent b = host();
        String message = assertThrows(SaveStreamException.class, () -> b.restoreDomain(5, stream, vcpus(b, 5), line -> { }))
                .getMessage();
        assertTrue(message.contains("\"xen.store\"") && message.contains("no bundle here provides"), message);
        assertEquals(List.of(), b.domains());
        assertEquals(List.of(), events);

        byte[] optional = savedWith(new TextPart("extra", false, null));
        b.restoreDomain(5, optional, vcpus(b, 5), line -> { });
        assertEquals(List.of("created 5"), events);
    }

    @Test
    void aRecordItsPartRefusesRefusesTheRestoreWithNothingMade() {
        byte[] stream = savedWith(new TextPart("p", true, null));
        HostComponent b = host();
        b.addPart(new TextPart("q", true, b) {
            @Override
            public String name() {
                return "p"; // reads only states that start with "q"
            }
        });
        String message = assertThrows(SaveStreamException.class, () -> b.restoreDomain(5, stream, vcpus(b, 5), line -> { }))
                .getMessage();
        assertTrue(message.contains("not my state"), message);
        assertEquals(List.of(), b.domains());
        assertEquals(List.of(), events, "no listener heard of it, nothing applied");
        assertTrue(b.backends().stream().allMatch(s -> s.bindings().isEmpty()));
    }

    @Test
    void aParkedStateStandsInForItsAbsentPartAndGoesWithTheDomain() {
        HostComponent a = host();
        DomainHandle d = a.createDomain(3, vcpus(a, 3), line -> { });
        a.park(3, "away", true, "parked".getBytes(StandardCharsets.US_ASCII));
        a.park(0, "away", true, "host's".getBytes(StandardCharsets.US_ASCII));
        a.park(9, "away", true, new byte[1]); // no such domain: ignored
        assertNull(a.take(9, "away"));
        HostComponent b = host();
        b.addPart(new DomainStatePart() {
            @Override
            public String name() {
                return "away";
            }

            @Override
            public boolean mandatory() {
                return true;
            }

            @Override
            public byte[] save(int domid) {
                return null;
            }

            @Override
            public Restore prepare(int domid, int savedDomid, byte[] state) {
                events.add(new String(state, StandardCharsets.US_ASCII));
                return () -> { };
            }
        });
        events.clear();
        b.restoreDomain(4, d.save(), vcpus(b, 4), line -> { });
        assertEquals(List.of("parked", "created 4"), events);
        assertArrayEquals("parked".getBytes(StandardCharsets.US_ASCII), a.take(3, "away"), "a save does not take it");
        a.park(3, "away", true, new byte[] {1});
        a.destroyDomain(3);
        assertNull(a.take(3, "away"), "gone with its domain");
        assertArrayEquals("host's".getBytes(StandardCharsets.US_ASCII), a.take(0, "away"));
        assertNull(a.take(0, "away"), "taken once");
    }

    @Test
    void aPartsNameIsCheckedAndTakenOnce() {
        HostComponent h = host();
        h.addPart(new TextPart("one", true, h));
        assertThrows(IllegalStateException.class, () -> h.addPart(new TextPart("one", false, h)));
        assertThrows(IllegalArgumentException.class, () -> h.addPart(new TextPart("no spaces", true, h)));
        assertThrows(IllegalArgumentException.class, () -> h.addPart(new TextPart("", true, h)));
        assertThrows(IllegalArgumentException.class, () -> h.addPart(new TextPart("x".repeat(129), true, h)));
    }
}
