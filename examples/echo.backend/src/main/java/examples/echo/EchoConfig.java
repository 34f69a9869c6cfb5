package examples.echo;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metatype of {@value EchoBackend#PID}. */
@ObjectClassDefinition(name = "Echo backend", description = "Answers every event on a guest's port with one back.")
@interface EchoConfig {
    @AttributeDefinition(description = "The guest domain.", min = "1", max = "32751")
    int domid();

    @AttributeDefinition(description = "The guest's port, offered to the host with alloc_unbound(remote_dom=0).", min = "1")
    int port();
}
