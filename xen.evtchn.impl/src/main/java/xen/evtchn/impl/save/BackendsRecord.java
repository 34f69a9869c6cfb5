package xen.evtchn.impl.save;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.EvtchnStat;
import xen.evtchn.api.backend.BackendState;
import xen.evtchn.api.backend.EvtchnHost;
import xen.evtchn.impl.evtchn.Domains;
import xen.evtchn.impl.evtchn.BackendImage;
import xen.evtchn.impl.evtchn.PortImage;

/** The named host backends' bindings to the domain (names ascending), each binding with whether it had an event the backend had not dealt with. */
final class BackendsRecord {
    private BackendsRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        List<BackendImage> backends = image.events().backends();
        w.varint(backends.size());
        for (BackendImage b : backends) {
            byte[] name = b.state().name().getBytes(StandardCharsets.UTF_8);
            w.varint(name.length);
            w.bytes(name);
            Set<Integer> pending = new HashSet<>(b.pendingPorts());
            w.varint(b.state().bindings().size());
            for (BackendState.Binding binding : b.state().bindings()) {
                w.varint(binding.port());
                w.varint(binding.remotePort());
                w.u8(pending.contains(binding.port()) ? 1 : 0);
            }
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        PortImage[] byPort = parts.byPort;
        int toHost = 0;
        for (PortImage p : byPort) {
            if (p != null && p.type() == EvtchnStat.INTERDOMAIN && p.remoteDom() == DomId.HOST) {
                toHost++;
            }
        }
        int count = r.varint32("backend count", Math.min(toHost, 1024));
        List<BackendImage> backends = new ArrayList<>(count);
        Set<Integer> hostPorts = new HashSet<>();
        Set<Integer> guestPorts = new HashSet<>();
        String lastName = null;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            int length = r.varint32("backend name length", 1, 4 * EvtchnHost.MAX_NAME);
            String name = utf8(r.bytes(length, "backend name"));
            if (name == null || name.isEmpty() || name.length() > EvtchnHost.MAX_NAME) {
                throw r.bad(at, "backend name is not 1 to " + EvtchnHost.MAX_NAME + " characters of UTF-8");
            }
            if (lastName != null && name.compareTo(lastName) <= 0) {
                throw r.bad(at, "backend \"" + name + "\" is out of order or repeated");
            }
            lastName = name;
            r.about("backend \"" + name + "\"");
            int bindingCount = r.varint32("binding count", 1, toHost);
            List<BackendState.Binding> bindings = new ArrayList<>(bindingCount);
            List<Integer> pending = new ArrayList<>();
            for (int b = 0; b < bindingCount; b++) {
                at = r.position();
                int hostPort = r.varint32("host port", 1, Domains.HOST_PORTS - 1);
                int guestPort = r.varint32("guest port", 1, PortsRecord.PORT_BITS_MAX);
                PortImage p = guestPort < byPort.length ? byPort[guestPort] : null;
                if (p == null || p.type() != EvtchnStat.INTERDOMAIN || p.remoteDom() != DomId.HOST || p.remotePort() != hostPort) {
                    throw r.bad(at, "backend \"" + name + "\" binds host port " + hostPort + " to guest port " + guestPort
                            + ", which is not connected to it");
                }
                if (!hostPorts.add(hostPort) || !guestPorts.add(guestPort)) {
                    throw r.bad(at, "backend \"" + name + "\": host port " + hostPort + " or guest port " + guestPort
                            + " is bound twice");
                }
                at = r.position();
                int flag = r.u8("pending flag");
                if (flag > 1) {
                    throw r.bad(at, "a pending flag is 0 or 1, not " + flag);
                }
                bindings.add(new BackendState.Binding(hostPort, parts.domid, guestPort));
                if (flag == 1) {
                    pending.add(hostPort);
                }
            }
            r.aboutNothing();
            backends.add(new BackendImage(new BackendState(name, bindings), pending));
        }
        parts.backends = backends;
    }

    /** The text, or null if the bytes are not UTF-8. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
