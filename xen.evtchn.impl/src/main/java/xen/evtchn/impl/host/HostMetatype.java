package xen.evtchn.impl.host;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metatype of {@value HostComponent#PID} (read by {@link HostComponent}). */
@ObjectClassDefinition(name = "Xen host", description = "The host's settings; a change applies at once, domains run on.")
@interface HostMetatype {
    @AttributeDefinition(description = "Count events per port (sent, raised) for xen:stats and PortInfo; costs 16 bytes"
            + " of heap for each port in a block of 64 that carried an event.")
    boolean stats() default false;
}
