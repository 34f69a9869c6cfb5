package xen.evtchn.impl.save;

import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.HvmOp;
import xen.evtchn.api.abi.VcpuInfoLayout;
import xen.evtchn.impl.evtchn.EventChannelImage;

/**
 * Each vCPU's event delivery: its upcall vector (HVMOP_set_evtchn_upcall_vector), then each
 * vCPU's vcpu_info address (VCPUOP_register_vcpu_info). Versions 1 and 2 have the same two lists,
 * with shared_info between them.
 */
final class VcpusRecord {
    private VcpusRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        writeVectors(w, image);
        writeVcpuInfo(w, image);
    }

    static void read(StreamReader r, ImageParts parts) {
        readVectors(r, parts);
        readVcpuInfo(r, parts);
    }

    private static void writeVectors(StreamWriter w, DomainImage image) {
        for (int vector : image.events().domain().vcpuVectors()) {
            w.varint(vector + 1L);
        }
    }

    private static void writeVcpuInfo(StreamWriter w, DomainImage image) {
        for (long at : image.events().domain().vcpuInfoAt()) {
            w.varint(at + 1);
        }
    }

    static void readVectors(StreamReader r, ImageParts parts) {
        int[] vectors = new int[parts.vcpus];
        for (int v = 0; v < vectors.length; v++) {
            int at = r.position();
            r.about("vCPU ", v);
            int vector = r.varint32("upcall vector", 256) - 1;
            if (vector != EventChannelImage.NO_VECTOR && vector < HvmOp.MIN_UPCALL_VECTOR) {
                throw r.bad(at, "upcall vector " + vector + " is below " + HvmOp.MIN_UPCALL_VECTOR);
            }
            vectors[v] = vector;
        }
        r.aboutNothing();
        parts.vcpuVectors = vectors;
    }

    static void readVcpuInfo(StreamReader r, ImageParts parts) {
        parts.vcpuInfoAt = placements(r, parts.vcpus, "vcpu_info", VcpuInfoLayout.SIZE);
    }

    /**
     * Per vCPU, where the guest put a record of {@code size} bytes (vcpu_info, a FIFO control
     * block): a guest-physical address + 1, 0 for none; 8-byte aligned within one page.
     */
    static long[] placements(StreamReader r, int vcpus, String what, int size) {
        long[] at = new long[vcpus];
        String field = what + " address";
        for (int v = 0; v < vcpus; v++) {
            int pos = r.position();
            r.about("vCPU ", v);
            long gpa = r.varint(field, Long.MAX_VALUE) - 1;
            long offset = gpa & (GuestMemory.PAGE_SIZE - 1);
            if (gpa != EventChannelImage.NOWHERE && (offset > GuestMemory.PAGE_SIZE - size || (offset & 7) != 0)) {
                throw r.bad(pos, what + " at 0x" + Long.toHexString(gpa) + " is not 8-byte aligned within one page");
            }
            at[v] = gpa;
        }
        r.aboutNothing();
        return at;
    }
}
