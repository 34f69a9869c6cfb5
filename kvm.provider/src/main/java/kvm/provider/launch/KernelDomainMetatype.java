package kvm.provider.launch;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metatype of {@value PvhGuestSettings#PID}, for tools that edit configurations (read by {@link PvhGuestSettings}). */
@ObjectClassDefinition(name = "PVH kernel domain on KVM",
        description = "A domain booting an unmodified PVH kernel image (ELF with XEN_ELFNOTE_PHYS32_ENTRY) on /dev/kvm.")
@interface KernelDomainMetatype {
    @AttributeDefinition(description = "The domain's id, 1..32751; unique on the host.", min = "1", max = "32751")
    int domid();

    @AttributeDefinition(description = "The PVH kernel image's path.")
    String kernel();

    @AttributeDefinition(description = "The kernel's command line: ASCII, at most 4095 characters.", required = false)
    String cmdline() default "";

    @AttributeDefinition(description = "vCPUs.", min = "1")
    int vcpus() default PvhGuestSettings.DEFAULT_VCPUS;

    @AttributeDefinition(description = "RAM in MiB, rounded up to a multiple of 2.", min = "1")
    int memory() default PvhGuestSettings.DEFAULT_MEMORY_MIB;

    @AttributeDefinition(description = "The domain's disks: FILE[,ro|rw][,vdev=xvdX] each, a raw image"
            + " (default vdevs xvda, xvdb, ...); added through the XenBus service of bundle xen.bus.", required = false)
    String[] disk();

    @AttributeDefinition(description = "How many xen-bus consoles (device/console/1..N, hvc1 and up) the domain has"
            + " beside its own, 0..15; served by bundle xen.console, their lines prefixed consoleN.", min = "0", max = "15")
    int consoles() default 0;

    @AttributeDefinition(name = "xen.version", description = "The Xen version the guest sees, major.minor (default 4.17).",
            required = false)
    String xen_version();
}
