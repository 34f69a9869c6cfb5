package reference.guest;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metatype of {@value GuestSettings#PID}, for tools that edit configurations (read by {@link GuestSettings}). */
@ObjectClassDefinition(name = "Reference guest domain",
        description = "A domain running the Java reference guest on software vCPUs: it ticks, sends IPIs and powers off.")
@interface ReferenceDomainMetatype {
    @AttributeDefinition(description = "The domain's id, 1..32751; unique on the host.", min = "1", max = "32751")
    int domid();

    @AttributeDefinition(description = "vCPUs, 1..64.", min = "1", max = "64")
    int vcpus() default GuestSettings.DEFAULT_VCPUS;

    @AttributeDefinition(description = "Timer ticks per second, 1..10000.", min = "1", max = "10000")
    int hz() default GuestSettings.DEFAULT_HZ;

    @AttributeDefinition(description = "How long the guest ticks before it powers off, in seconds.", min = "1",
            max = "86400")
    int seconds() default GuestSettings.DEFAULT_SECONDS;

    @AttributeDefinition(description = "Each vCPU sends an IPI to the next one every 10 ticks.")
    boolean ipis() default true;

    @AttributeDefinition(name = "fifo.ports", description = "0: the 2-level ABI. Else the FIFO ABI with this many more"
            + " ports, spread over the vCPUs with priorities 0..15; every tick each vCPU sends 64 events on them and checks"
            + " that it consumes each once, higher priorities first. At least 512 per vCPU, at most 130943.",
            min = "0", max = "130943", required = false)
    int fifo_ports() default 0;

    @AttributeDefinition(name = "console.lines", description = "0: console_io only. Else the guest also prints this"
            + " many numbered lines on its PV console ring, spread over its ticks, echoes every line typed to it, and"
            + " powers off once the console backend has taken all of it.", min = "0", max = "100000000", required = false)
    int console_lines() default 0;

    @AttributeDefinition(name = "xen.version", description = "The Xen version the guest sees, major.minor (default 4.17).",
            required = false)
    String xen_version();
}
