package kvm.provider.launch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import kvm.provider.boot.HvmStartInfo;
import kvm.provider.boot.KernelImage;
import kvm.provider.boot.PvhImage;
import kvm.provider.xen.KvmConfig;
import xen.evtchn.api.bus.DiskSpec;
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
 * <li>{@value #INITRD}: the path of an initial RAM disk (the first hvm_start_info module), default none
 * <li>{@value #IRQCHIP}: the in-kernel irqchip (local APICs), "true", "false" or "auto" (default): on
 * with more than one vCPU (the others start by INIT/SIPI) or for a Linux image (XEN_ELFNOTE_GUEST_OS
 * "linux": its timer and upcalls need a local APIC)
 * <li>{@value #CONSOLE_LINES}: print the guest's console lines on standard output, prefixed
 * "[dom<i>N</i>] ", default true (false: a terminal attaches to the raw console instead)
 * <li>{@code xen.version}: the Xen the guest sees, "major.minor", default the host's
 * <li>{@value #DISK}: the domain's disks, one {@link DiskSpec} string ({@code FILE[,ro|rw][,vdev=xvdX]})
 * or a list of them, default none; each image is checked here (it exists, is a regular file, is
 * readable, writable unless ro, and holds a sector), and {@link PvhGuestLauncher} adds them through
 * the host's XenBus service (bundle xen.bus)
 * <li>{@value #CONSOLES}: how many xen-bus consoles (device/console/1..N, Linux's hvc1 and up) the
 * domain has beside its own, 0..{@value DomainConfiguration#MAX_CONSOLES}, default 0; added through
 * the XenBus too and served by bundle xen.console, their lines printed as the console's are, prefixed
 * "consoleN: "
 * </ul>
 * The image and initrd are read by {@link #image()} and {@link #initrd()}, so that every setting is
 * checked before anything is built.
 *
 * @param domid      the domain's id
 * @param kernel     the image's absolute path
 * @param cmdline    its command line (ASCII without NUL, at most {@value HvmStartInfo#MAX_CMDLINE} characters)
 * @param vcpus      its vCPUs
 * @param ramBytes   its RAM, a multiple of 2 MiB
 * @param xenVersion the Xen version, or null for the host's default
 * @param initrd     the initial RAM disk's absolute path, or null for none
 * @param irqchip    the in-kernel irqchip: TRUE, FALSE, or null to decide by the image
 * @param consoleLines whether the console's lines go to standard output
 * @param disks      its disks, images checked, vdevs assigned
 * @param consoles   its xen-bus consoles beside its own
 */
record PvhGuestSettings(int domid, Path kernel, String cmdline, int vcpus, long ramBytes, String xenVersion,
        Path initrd, Boolean irqchip, boolean consoleLines, List<DiskSpec> disks, int consoles) {
    static final String PID = "xen.domain.kernel";
    static final String KERNEL = "kernel";
    static final String CMDLINE = "cmdline";
    static final String MEMORY = "memory";
    static final String INITRD = "initrd";
    static final String IRQCHIP = "irqchip";
    static final String CONSOLE_LINES = "console.lines";
    static final String DISK = DomainConfiguration.DISK;
    static final String CONSOLES = DomainConfiguration.CONSOLES;
    /** How messages about the image name it: the configuration and the property. */
    private static final String SOURCE = "configuration " + PID + ": " + KERNEL;

    static final int DEFAULT_VCPUS = 1;
    static final int DEFAULT_MEMORY_MIB = 64;
    static final int MAX_MEMORY_MIB = (int) (KvmConfig.MAX_RAM >> 20);
    /** The largest image file read (a vmlinux with its debug sections is some hundred MiB). */
    static final long MAX_IMAGE_BYTES = 1L << 30;
    /** The largest initrd read (it must fit in the guest's RAM below 4 GiB anyway). */
    static final long MAX_INITRD_BYTES = 1L << 30;

    /**
     * Reads the settings.
     *
     * @throws IllegalArgumentException naming the configuration and property, for a missing domid
     *                                  or kernel path, a command line the guest cannot get, a value
     *                                  that is not a number or out of range, a malformed disk or a
     *                                  disk image that is missing, unreadable, unwritable or empty
     */
    static PvhGuestSettings from(Map<String, ?> properties) {
        DomainConfiguration c = new DomainConfiguration(PID, properties);
        int domid = c.domid();
        Path kernel = path(c, KERNEL, true);
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
        Boolean irqchip = switch (c.string(IRQCHIP, "auto")) {
            case "auto" -> null;
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw c.refused(IRQCHIP + " must be true, false or auto: got \"" + c.string(IRQCHIP, "") + "\"");
        };
        return new PvhGuestSettings(domid, kernel, cmdline, vcpus, ramBytes, c.xenVersion(), path(c, INITRD, false),
                irqchip, c.bool(CONSOLE_LINES, true), c.disks(), c.consoles());
    }

    /** Property {@code name} as an absolute path; null if it is not set and not {@code required}. */
    private static Path path(DomainConfiguration c, String name, boolean required) {
        String file = c.string(name, null);
        if (file == null) {
            if (required) {
                throw c.refused(name + " is required: the path of a PVH kernel image");
            }
            return null;
        }
        try {
            return Path.of(file).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw c.refused(name + " is not a path: \"" + file + "\" (" + e.getReason() + ")");
        }
    }

    /**
     * Reads and parses the image at {@link #kernel()}.
     *
     * @throws IllegalArgumentException naming the configuration, {@value #KERNEL} and the file, if it cannot be read,
     *                                  is too large, or is not a PVH image (and saying why)
     */
    PvhImage image() {
        byte[] bytes = read(KERNEL, kernel, MAX_IMAGE_BYTES);
        try {
            return PvhImage.parse(KernelImage.elf(bytes));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(SOURCE + ": " + kernel + " is not a PVH kernel image: " + e.getMessage(),
                    e);
        }
    }

    /**
     * Reads the initrd at {@link #initrd()}, or null if there is none.
     *
     * @throws IllegalArgumentException naming the configuration, {@value #INITRD} and the file, if it cannot
     *                                  be read, is empty or too large
     */
    byte[] initrdBytes() {
        if (initrd == null) {
            return null;
        }
        byte[] bytes = read(INITRD, initrd, MAX_INITRD_BYTES);
        if (bytes.length == 0) {
            throw new IllegalArgumentException("configuration " + PID + ": " + INITRD + ": " + initrd + " is empty");
        }
        return bytes;
    }

    private static byte[] read(String property, Path file, long max) {
        String source = "configuration " + PID + ": " + property;
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(source + ": " + file
                        + (Files.exists(file) ? " is not a regular file" : " does not exist"));
            }
            long size = Files.size(file);
            if (size > max) {
                throw new IllegalArgumentException(source + ": " + file + " is " + size + " bytes, more than the "
                        + (max >> 20) + " MiB it may have");
            }
            return Files.readAllBytes(file);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException(source + ": cannot read " + file + ": " + e, e);
        }
    }

    /** The KVM configuration for {@code image}: the in-kernel irqchip as {@value #IRQCHIP} says. */
    KvmConfig config(Consumer<String> log, PvhImage image) {
        boolean chip = irqchip != null ? irqchip : vcpus > 1 || image.guestOs().equalsIgnoreCase("linux");
        return KvmConfig.of(vcpus, ramBytes, log).withIrqchip(chip);
    }
}
