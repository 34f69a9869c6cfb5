package benchmarks;

import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ParkedTimers;

/** Prints the save stream's size for {@link FullDomain} (goal: under 40 KiB). */
public final class SaveStreamSize {
    private SaveStreamSize() {
    }

    public static void main(String[] args) throws Exception {
        XenHost host = new XenHost(ParkedTimers.INSTANCE, (d, r) -> { });
        FullDomain.build(host, new BenchVcpus(FullDomain.VCPUS, FullDomain.RAM));
        byte[] stream = SaveStream.write(host.save(FullDomain.DOMID));
        System.out.println("| domain | stream | per port |");
        System.out.println("|---|---|---|");
        System.out.printf("| 64-bit, 8 vCPUs, 4095 ports in use | %,d B (%.1f KiB) | %.2f B |%n", stream.length,
                stream.length / 1024.0, stream.length / 4095.0);
    }
}
