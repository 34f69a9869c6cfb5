package xen.console;

import java.util.function.Consumer;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;
import xen.evtchn.api.host.GuestConsole;

/**
 * One xen-bus console: the ring page the frontend granted (its {@code ring-ref}), mapped
 * writable, served by a {@link RingConsole} on the port its {@code port} node names, as
 * hvc_xen's xencons_connect_backend sets them up.
 */
final class DeviceConsole implements DeviceBackend {
    private final XenBusDevice device;
    private final GuestConsole console;
    private final Consumer<String> log;
    private GrantMapping mapping;
    private RingConsole ring;

    DeviceConsole(XenBusDevice device, GuestConsole console, Consumer<String> log) {
        this.device = device;
        this.console = console;
        this.log = log;
    }

    @Override
    public void connect() throws XenBusException {
        int ref = (int) device.frontendNumber("ring-ref", 0, Integer.MAX_VALUE);
        int port = (int) device.frontendNumber("port", 1, Integer.MAX_VALUE);
        GrantMapping page;
        try {
            page = device.grants().map(device.domid(), ref, true);
        } catch (GrantException e) {
            throw new XenBusException("ring-ref " + ref + ": " + e.getMessage(), e);
        }
        XenBusDevice.Channel channel;
        try {
            channel = device.bindFrontendPort(port);
        } catch (XenBusException | RuntimeException e) {
            page.close();
            throw e;
        }
        mapping = page;
        ring = new RingConsole(device.domid(), "console" + device.devid(), page.page(), channel.handle(), channel.port(),
                console, log);
        ring.start();
    }

    @Override
    public void disconnect() {
        release();
    }

    /** The ring's thread ends after its pass (output handed over, input moved only as far as it fits). */
    @Override
    public void handOver() {
        release();
    }

    private void release() {
        if (ring != null) {
            try {
                ring.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ring = null;
        }
        if (mapping != null) {
            mapping.close();
            mapping = null;
        }
    }
}
