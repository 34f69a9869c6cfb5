package kvm.provider.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import kvm.provider.boot.KernelImage;
import xen.evtchn.api.host.DomainConfiguration;

/**
 * A PVH kernel domain on KVM as its factory configuration ({@value #PID}) describes it
 * ({@link KernelDomainMetatype} documents it for tools):
 * <ul>
 * <li>{@code domid}: required, 1..32751
 * <li>{@value #KERNEL}: the path of the PVH image, required: an ELF with the Xen PVH entry note, or a
 * distribution's bzImage (/boot/vmlinuz-*) whose payload is one
 * <li>{@value #CMDLINE}: its command line, default empty
 * <li>{@code vcpus}: 1..{@value KvmConfig#MAX_VCPUS}, default {@value #DEFAULT_VCPUS}
 * <li>{@value #MEMORY}: RAM in MiB, 1..{@value #MAX_MEMORY_MIB}, default {@value #DEFAULT_MEMORY_MIB};
 * rounded up to a multiple of 2 MiB (KVM maps guest RAM in 2 MiB pieces)
 * <li>{@code xen.version}: the Xen the guest sees, "major.minor", default the host's
 * </ul>
 * The image is read by {@link #image()}, so that every setting is checked before anything is
 * built.
 *
 * @param domid      the domain's id
 * @param kernel     the image's absolute path
 * @param cmdline    its command line (ASCII without NUL, at most {@value HvmStartInfo#MAX_CMDLINE} characters)
 * @param vcpus      its vCPUs
 * @param ramBytes   its RAM, a multiple of 2 MiB
 * @param xenVersion the Xen version, or null for the host's default
 */
record PvhGuestSettings(int domid, Path kernel, String cmdline, int vcpus, long ramBytes, String xenVersion) {
    static final String PID = "xen.domain.kernel";
    static final String KERNEL = "kernel";
    static final String CMDLINE = "cmdline";
    static final String MEMORY = "memory";
    /** How messages about the image name it: the configuration and the property. */
    private static final String SOURCE = "configuration " + PID + ": " + KERNEL;

    static final int DEFAULT_VCPUS = 1;
    static final int DEFAULT_MEMORY_MIB = 64;
    static final int MAX_MEMORY_MIB = (int) (KvmConfig.MAX_RAM >> 20);
    /** The largest image file read (a vmlinux with its debug sections is some hundred MiB). */
    static final long MAX_IMAGE_BYTES = 1L << 30;

    /**
     * Reads the settings.
     *
     * @throws IllegalArgumentException naming the configuration and property, for a missing domid
     *                                  or kernel path, a command line the guest cannot get, a value
     *                                  that is not a number or out of range
     */
    static PvhGuestSettings from(Map<String, ?> properties) {
        DomainConfiguration c = new DomainConfiguration(PID, properties);
        int domid = c.domid();
        String file = c.string(KERNEL, null);
        if (file == null) {
            throw c.refused(KERNEL + " is required: the path of a PVH kernel image");
        }
        Path kernel;
        try {
            kernel = Path.of(file).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw c.refused(KERNEL + " is not a path: \"" + file + "\" (" + e.getReason() + ")");
        }
        String cmdline = c.raw(CMDLINE, "");
        if (cmdline.length() > HvmStartInfo.MAX_CMDLINE) {
            throw c.refused(CMDLINE + " is " + cmdline.length() + " characters long, at most " + HvmStartInfo.MAX_CMDLINE);
        }
        for (int i = 0; i < cmdline.length(); i++) {
            char ch = cmdline.charAt(i);
            if (ch == 0 || ch > 0x7f) {
                throw c.refused(CMDLINE + " must be ASCII without NUL: character " + String.format("U+%04X", (int) ch)
                        + " at index " + i);
            }
        }
        int vcpus = c.integer(DomainConfiguration.VCPUS, DEFAULT_VCPUS, 1, KvmConfig.MAX_VCPUS);
        int mib = c.integer(MEMORY, DEFAULT_MEMORY_MIB, 1, MAX_MEMORY_MIB);
        long ramBytes = ((long) mib << 20) + KvmConfig.MIN_RAM - 1 & -KvmConfig.MIN_RAM;
        return new PvhGuestSettings(domid, kernel, cmdline, vcpus, ramBytes, c.xenVersion());
    }

    /**
     * Reads and parses the image at {@link #kernel()}.
     *
     * @throws IllegalArgumentException naming the configuration, {@value #KERNEL} and the file, if it cannot be read,
     *                                  is too large, or is not a PVH image (and saying why)
     */
    PvhImage image() {
        byte[] bytes;
        try {
            if (!Files.isRegularFile(kernel)) {
                throw new IllegalArgumentException(SOURCE + ": " + kernel
                        + (Files.exists(kernel) ? " is not a regular file" : " does not exist"));
            }
            long size = Files.size(kernel);
            if (size > MAX_IMAGE_BYTES) {
                throw new IllegalArgumentException(SOURCE + ": " + kernel + " is " + size + " bytes, more than the "
                        + (MAX_IMAGE_BYTES >> 20) + " MiB an image may have");
            }
            bytes = Files.readAllBytes(kernel);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException(KERNEL + ": cannot read " + kernel + ": " + e, e);
        }
        try {
            return PvhImage.parse(KernelImage.elf(bytes));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(SOURCE + ": " + kernel + " is not a PVH kernel image: " + e.getMessage(),
                    e);
        }
    }

    /** The KVM configuration: the in-kernel irqchip with more than one vCPU (the others start by INIT/SIPI). */
    KvmConfig config(Consumer<String> log) {
        return KvmConfig.of(vcpus, ramBytes, log).withIrqchip(vcpus > 1);
    }
}
