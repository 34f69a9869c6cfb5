package xen.evtchn.impl.save;

import java.util.Arrays;
import java.util.zip.CRC32C;
import xen.evtchn.impl.evtchn.EventChannelImage;
import xen.evtchn.impl.delivery.FifoImage;
import xen.evtchn.impl.evtchn.BackendImage;
import xen.evtchn.impl.evtchn.PortImage;
import xen.evtchn.impl.time.TimerState;

/**
 * A {@link DomainImage} as text, one fact a line, for tests that compare images (their records
 * hold arrays, whose equals is identity): two images with the same text restore alike.
 */
public final class ImageText {
    private ImageText() {
    }

    public static String of(DomainImage image) {
        StringBuilder s = new StringBuilder();
        EventChannelImage ev = image.events().domain();
        line(s, "domid " + image.domid() + ", " + image.width() + ", Xen " + image.xenMajor() + "." + image.xenMinor()
                + ", " + image.vcpus() + " vCPUs, system time " + image.systemTime());
        line(s, "valid ports " + ev.validPorts());
        for (PortImage p : ev.ports()) {
            line(s, "port " + p.port() + ": type " + p.type() + ", vCPU " + p.vcpu() + ", remote " + p.remoteDom() + ":"
                    + p.remotePort() + ", VIRQ " + p.virq() + ", priority " + p.priority());
        }
        for (int i = 0; i < image.hvmParams().length; i++) {
            if (image.hvmParams()[i] != 0) {
                line(s, "HVM param " + i + " = 0x" + Long.toHexString(image.hvmParams()[i]));
            }
        }
        line(s, "upcall vectors " + Arrays.toString(ev.vcpuVectors()));
        line(s, "shared_info frame " + ev.sharedInfoGfn());
        if (ev.sharedInfoPage() != null) {
            CRC32C crc = new CRC32C();
            crc.update(ev.sharedInfoPage());
            line(s, "shared_info page: " + ev.sharedInfoPage().length + " bytes, CRC32C " + Long.toHexString(crc.getValue()));
        }
        line(s, "vcpu_info at " + Arrays.toString(ev.vcpuInfoAt()));
        for (int v = 0; v < image.vcpus(); v++) {
            TimerState t = image.timers().get(v);
            line(s, "vCPU " + v + " timers: singleshot " + t.singleshot() + ", period " + t.period()
                    + (t.period() != 0 ? ", next " + t.periodicNext() : ""));
        }
        for (BackendImage b : image.events().backends()) {
            line(s, "backend " + b.state() + ", pending " + b.pendingPorts());
        }
        FifoImage f = ev.fifo();
        if (f != null) {
            line(s, "FIFO control blocks " + Arrays.toString(f.controlBlockAt()));
            line(s, "FIFO array pages " + Arrays.toString(f.arrayPageGfns()));
            line(s, "FIFO tails " + Arrays.toString(f.tails()));
            line(s, "FIFO moved tails " + Arrays.toString(f.movedTails()));
            line(s, "FIFO raised before their page " + Arrays.toString(f.pendingWithoutPage()));
        }
        return s.toString();
    }

    private static void line(StringBuilder s, String text) {
        s.append(text).append('\n');
    }
}
