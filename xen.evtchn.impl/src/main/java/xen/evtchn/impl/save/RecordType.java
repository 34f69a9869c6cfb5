package xen.evtchn.impl.save;

import java.util.function.Predicate;

/**
 * The records of a version-3 stream: each type's number, which domains have it, and the one
 * section class that writes and reads its body. Every record here but PART is mandatory (a host
 * must understand it to restore); they come in this order, each once at most: FIFO exactly for a
 * FIFO domain, GRANT_TABLE when the table is not a new domain's (without it a restore makes a new
 * one), PART once for each bundle's part of the domain (optional or mandatory as the part says),
 * the others always, END last.
 */
enum RecordType {
    DOMAIN(1, image -> true, DomainRecord::write, DomainRecord::read),
    PORTS(2, image -> true, PortsRecord::write, PortsRecord::read),
    HVM_PARAMS(3, image -> true, HvmParamsRecord::write, HvmParamsRecord::read),
    VCPUS(4, image -> true, VcpusRecord::write, VcpusRecord::read),
    SHARED_INFO(5, image -> true, SharedInfoRecord::write, SharedInfoRecord::read),
    TIMERS(6, image -> true, TimersRecord::write, TimersRecord::read),
    BACKENDS(7, image -> true, BackendsRecord::write, BackendsRecord::read),
    FIFO(8, FifoRecord::applies, FifoRecord::write, FifoRecord::read),
    GRANT_TABLE(9, GrantTableRecord::applies, GrantTableRecord::write, GrantTableRecord::read),
    /** A bundle's part of the domain ({@link PartRecord}): one record a part, optional or not as the part says; may repeat. */
    PART(10, image -> !image.parts().isEmpty(), null, null),
    /** The last record, with no body. */
    END(0, image -> true, null, null);

    interface Writer {
        void write(StreamWriter w, DomainImage image);
    }

    interface Reader {
        void read(StreamReader r, ImageParts parts);
    }

    final int number;
    private final Predicate<DomainImage> in;
    final Writer writer;
    final Reader reader;

    RecordType(int number, Predicate<DomainImage> in, Writer writer, Reader reader) {
        this.number = number;
        this.in = in;
        this.writer = writer;
        this.reader = reader;
    }

    /** True if a stream of {@code image} has this record. */
    boolean in(DomainImage image) {
        return in.test(image);
    }

    /** True if a stream whose records so far gave {@code parts} may have this record (checked once the records before it are read). */
    boolean allowed(ImageParts parts) {
        return this != FIFO || parts.fifo;
    }

    /** True if a stream whose records so far gave {@code parts} must have this record. */
    boolean required(ImageParts parts) {
        return allowed(parts) && this != GRANT_TABLE && this != PART;
    }

    /** The type numbered {@code number}, or null if this host does not know it. */
    static RecordType of(int number) {
        for (RecordType t : values()) {
            if (t.number == number) {
                return t;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name() + " (" + number + ")";
    }
}
