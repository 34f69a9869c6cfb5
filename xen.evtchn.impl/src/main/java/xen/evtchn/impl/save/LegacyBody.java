package xen.evtchn.impl.save;

/**
 * The body of a version 1 (2-level) or 2 (FIFO) stream, which hosts wrote before version 3:
 * the same sections as version 3's records, without their headers, in a fixed order (the vCPUs'
 * vectors and vcpu_info addresses apart, shared_info between them); the ABI is the version's.
 */
final class LegacyBody {
    private LegacyBody() {
    }

    static DomainImage read(StreamReader r, boolean fifo) {
        ImageParts parts = new ImageParts();
        DomainRecord.read(r, parts);
        parts.fifo = fifo;
        PortsRecord.readPorts(r, parts);
        HvmParamsRecord.read(r, parts);
        VcpusRecord.readVectors(r, parts);
        SharedInfoRecord.read(r, parts);
        VcpusRecord.readVcpuInfo(r, parts);
        TimersRecord.read(r, parts);
        BackendsRecord.read(r, parts);
        if (fifo) {
            FifoRecord.read(r, parts);
        }
        if (!r.atEnd()) {
            throw r.bad(r.position(), "bytes after the last section");
        }
        return parts.image();
    }
}
