package xen.bus.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.XenBusBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;

/**
 * A backend of its own device type for the bus's tests, with the smallest ring there is: the
 * guest counts requests at offset 0 of the granted page ({@link #REQ_PROD}) and raises its port;
 * on each event the backend copies the count to offset 4 ({@link #RSP_PROD}) and raises the guest.
 * It answers on events only, never on its own at connect, so that a test sees whether an event
 * was lost. Every call the bus makes is recorded in {@link #calls}; a backend node {@code refuse}
 * makes the probe fail.
 */
final class RingBackend implements XenBusBackend {
    static final int REQ_PROD = 0;
    static final int RSP_PROD = 4;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    final String name;
    final String type;
    final List<String> calls = new CopyOnWriteArrayList<>();

    RingBackend(String name, String type) {
        this.name = name;
        this.type = type;
    }

    @Override
    public String type() {
        return type;
    }

    @Override
    public DeviceBackend probe(XenBusDevice device) throws XenBusException {
        calls.add("probe " + device.devid());
        String refuse = device.backend("refuse");
        if (refuse != null) {
            throw new XenBusException("refused: " + refuse);
        }
        device.writeBackend("feature-ring", "1");
        device.writeBackend("served-by", name);
        return new Served(device);
    }

    /** One device served: its ring mapped and a thread answering events. */
    final class Served implements DeviceBackend {
        private final XenBusDevice device;
        private GrantMapping ring;
        private XenBusDevice.Channel channel;
        private Thread thread;
        private volatile boolean stop;

        Served(XenBusDevice device) {
            this.device = device;
        }

        @Override
        public void connect() throws XenBusException {
            calls.add("connect " + device.devid() + (device.resumed() ? " resumed" : ""));
            int ref = (int) device.frontendNumber("ring-ref", 0, 0xFFFF_FFFFL);
            int port = (int) device.frontendNumber("event-channel", 1, 0xFFFF_FFFFL);
            try {
                ring = device.grants().map(device.domid(), ref, true);
            } catch (GrantException e) {
                throw new XenBusException("ring-ref " + ref + ": " + e.getMessage(), e);
            }
            try {
                channel = device.bindFrontendPort(port);
            } catch (XenBusException e) {
                ring.close();
                throw e;
            }
            thread = Thread.ofPlatform().daemon(true).name(name + "-" + device.devid()).start(this::serve);
        }

        private void serve() {
            MemorySegment page = ring.page();
            try {
                while (!stop) {
                    int port = channel.handle().pending(5, TimeUnit.MILLISECONDS);
                    if (port < 0) {
                        continue;
                    }
                    page.set(U32, RSP_PROD, page.get(U32, REQ_PROD));
                    channel.handle().unmask(port);
                    channel.handle().notify(channel.port());
                }
            } catch (InterruptedException | EvtchnException e) {
                calls.add("serve failed: " + e.getMessage());
            }
        }

        private void stopServing() {
            stop = true;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ring.close();
        }

        @Override
        public void disconnect() {
            calls.add("disconnect " + device.devid());
            stopServing();
        }

        @Override
        public void handOver() {
            calls.add("handOver " + device.devid());
            stopServing();
        }
    }
}
