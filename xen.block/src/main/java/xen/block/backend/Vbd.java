package xen.block.backend;

import java.lang.foreign.MemorySegment;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import xen.block.disk.DiskException;
import xen.block.disk.DiskImage;
import xen.block.ring.BackRing;
import xen.block.ring.RingPages;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.backend.GrantException;
import xen.evtchn.api.backend.GrantMapping;
import xen.evtchn.api.bus.DeviceBackend;
import xen.evtchn.api.bus.XenBusDevice;
import xen.evtchn.api.bus.XenBusException;

/**
 * One vbd as this backend serves it (blkback's struct xen_blkif and its xenbus half). At the probe
 * it checks the toolstack's {@code params} and {@code mode}, opens the image to size it and
 * publishes the disk and the features; at {@link #connect()} it reads the frontend's ring, maps
 * its pages, opens the image again and starts its {@link RingServer}. The image is open only
 * while connected, so a device refused or removed before it connects holds nothing.
 */
final class Vbd implements DeviceBackend {
    private final XenBusDevice device;
    private final Path image;
    private final boolean readOnly;
    private final long sectors;
    private final BlockSettings settings;
    private final Consumer<String> log;
    private final Live live;
    private final String name;
    private Connection connection;

    private Vbd(XenBusDevice device, Path image, boolean readOnly, long sectors, BlockSettings settings,
            Consumer<String> log, Live live) {
        this.device = device;
        this.image = image;
        this.readOnly = readOnly;
        this.sectors = sectors;
        this.settings = settings;
        this.log = log;
        this.live = live;
        this.name = "dom" + device.domid() + "-vbd-" + device.devid();
    }

    /** Who keeps count of the connected devices (the component, to end them if the bus does not). */
    interface Live {
        void connected(Vbd vbd);

        void ended(Vbd vbd);
    }

    /** What the running connection holds: the ring's mapped pages, the image, the serving thread. */
    private record Connection(List<GrantMapping> mappings, DiskImage disk, RingServer server) {
    }

    /**
     * Checks the backend nodes and publishes the disk (blkback's backend_probe and the nodes
     * connect writes; all of them now, since they are known now).
     *
     * @param live told when the device connects and when it has disconnected or handed over
     */
    static Vbd probe(XenBusDevice device, BlockSettings settings, Consumer<String> log, Live live) throws XenBusException {
        String params = device.backend(Blkif.NODE_PARAMS);
        if (params == null || params.isBlank()) {
            throw new XenBusException("vbd " + device.devid() + ": no params node (the image file)");
        }
        String mode = device.backend(Blkif.NODE_MODE);
        if (!"r".equals(mode) && !"w".equals(mode)) {
            throw new XenBusException("vbd " + device.devid() + ": mode must be r or w: got "
                    + (mode == null ? "none" : "\"" + shortened(mode) + "\""));
        }
        boolean readOnly = mode.equals("r");
        Path image;
        try {
            image = Path.of(params);
        } catch (InvalidPathException e) {
            throw new XenBusException("vbd " + device.devid() + ": params is not a path: \"" + shortened(params) + "\"");
        }
        long sectors;
        int physical;
        try (DiskImage disk = DiskImage.open(image, readOnly)) {
            sectors = disk.sectors();
            physical = disk.physicalSectorSize();
        } catch (DiskException e) {
            throw new XenBusException("vbd " + device.devid() + ": " + e.getMessage());
        }
        device.writeBackend(Blkif.NODE_SECTORS, Long.toString(sectors));
        device.writeBackend(Blkif.NODE_SECTOR_SIZE, Integer.toString(Blkif.SECTOR_SIZE));
        device.writeBackend(Blkif.NODE_PHYSICAL_SECTOR_SIZE, Integer.toString(physical));
        device.writeBackend(Blkif.NODE_INFO, Integer.toString(readOnly ? Blkif.VDISK_READONLY : 0));
        if (!readOnly && settings.flushCache()) {
            device.writeBackend(Blkif.NODE_FEATURE_FLUSH_CACHE, "1");
        }
        if (!readOnly && settings.barrier()) {
            device.writeBackend(Blkif.NODE_FEATURE_BARRIER, "1");
        }
        if (settings.maxRingPageOrder() > 0) {
            device.writeBackend(Blkif.NODE_MAX_RING_PAGE_ORDER, Integer.toString(settings.maxRingPageOrder()));
        }
        return new Vbd(device, image, readOnly, sectors, settings, log, live);
    }

    String name() {
        return name;
    }

    @Override
    public synchronized void connect() throws XenBusException {
        if (connection != null) {
            throw new XenBusException(name + ": already connected");
        }
        String protocol = device.frontend(Blkif.NODE_PROTOCOL);
        if (protocol != null && !protocol.equals(Blkif.PROTOCOL_X86_64)) {
            throw new XenBusException(name + ": protocol " + (protocol.equals(Blkif.PROTOCOL_X86_32)
                    ? Blkif.PROTOCOL_X86_32 + " (the 32-bit ring layout) is not supported"
                    : "\"" + shortened(protocol) + "\" is unknown") + "; only " + Blkif.PROTOCOL_X86_64);
        }
        int order = device.frontend(Blkif.NODE_RING_PAGE_ORDER) == null ? 0
                : (int) device.frontendNumber(Blkif.NODE_RING_PAGE_ORDER, 0, settings.maxRingPageOrder());
        int[] refs = new int[1 << order];
        for (int i = 0; i < refs.length; i++) {
            String node = order == 0 ? Blkif.NODE_RING_REF : Blkif.ringRef(i);
            refs[i] = (int) device.frontendNumber(node, 0, 0xFFFF_FFFFL);
        }
        int remotePort = (int) device.frontendNumber(Blkif.NODE_EVENT_CHANNEL, 1, Integer.MAX_VALUE);

        List<GrantMapping> mappings = new ArrayList<>();
        DiskImage disk = null;
        try {
            MemorySegment[] pages = new MemorySegment[refs.length];
            for (int i = 0; i < refs.length; i++) {
                try {
                    GrantMapping m = device.grants().map(device.domid(), refs[i], true);
                    mappings.add(m);
                    pages[i] = m.page();
                } catch (GrantException e) {
                    throw new XenBusException(name + ": cannot map ring page " + i + " (grant " + Integer.toUnsignedString(refs[i])
                            + "): " + e.getMessage());
                }
            }
            try {
                disk = DiskImage.open(image, readOnly);
            } catch (DiskException e) {
                throw new XenBusException(name + ": " + e.getMessage());
            }
            if (disk.sectors() < sectors) {
                throw new XenBusException(name + ": " + image + " shrank to " + disk.sectors() + " sectors since the probe ("
                        + sectors + ")");
            }
            XenBusDevice.Channel channel = device.bindFrontendPort(remotePort);
            RingPages ring = new RingPages(pages);
            BackRing back = device.resumed() ? BackRing.resumed(ring) : new BackRing(ring, 0);
            RingServer server = new RingServer(name, back, channel,
                    new RequestIo(device.domid(), device.grants(), disk, settings.barrier(), settings.flushCache()), log);
            connection = new Connection(List.copyOf(mappings), disk, server);
            live.connected(this);
            server.start();
        } catch (XenBusException | RuntimeException e) {
            mappings.forEach(GrantMapping::close);
            if (disk != null) {
                disk.close();
            }
            throw e;
        }
    }

    @Override
    public void disconnect() {
        end();
    }

    @Override
    public void handOver() {
        end();
    }

    /**
     * Both ways out are the same for this backend: the thread answers what it took, pushes and
     * ends; the ring is unmapped and the image closed. The bus closes or parks the port.
     *
     * @return whether there was a connection to end
     */
    synchronized boolean end() {
        Connection c = connection;
        if (c == null) {
            return false;
        }
        connection = null;
        c.server().stop();
        c.mappings().forEach(GrantMapping::close);
        c.disk().close();
        live.ended(this);
        return true;
    }

    /** The serving thread's ring, or null when not connected (tests). */
    synchronized RingServer server() {
        return connection == null ? null : connection.server();
    }

    private static String shortened(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
