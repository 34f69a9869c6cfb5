package kvm.provider.kvm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Whether and how the host boots a PVH kernel on KVM, from framework properties (the launcher
 * sets them from its command line):
 * <ul>
 * <li>{@value #GUEST}: "kernel" boots one; absent or anything else does not (another booter's)
 * <li>{@value #KERNEL}: the path of the PVH ELF image, required
 * <li>{@value #CMDLINE}: its command line, default empty
 * <li>{@value #VCPUS}: vCPUs, 1..{@value KvmConfig#MAX_VCPUS}, default {@value #DEFAULT_VCPUS}
 * <li>{@value #MEMORY}: RAM in MiB, 1..{@value #MAX_MEMORY_MIB}, default {@value #DEFAULT_MEMORY_MIB};
 * rounded up to a multiple of 2 MiB (KVM maps guest RAM in 2 MiB pieces)
 * </ul>
 * The image is read by {@link #image()}, so that every setting is checked before anything is
 * built.
 *
 * @param boot     whether a kernel is to be booted; if false the other components are null or 0
 * @param kernel   the image's absolute path
 * @param cmdline  its command line (ASCII without NUL, at most {@value HvmStartInfo#MAX_CMDLINE} characters)
 * @param vcpus    its vCPUs
 * @param ramBytes its RAM, a multiple of 2 MiB
 */
record PvhGuestSettings(boolean boot, Path kernel, String cmdline, int vcpus, long ramBytes) {
    static final String GUEST = "xen.guest";
    static final String KERNEL = "xen.kernel";
    static final String CMDLINE = "xen.kernel.cmdline";
    static final String VCPUS = "xen.guest.vcpus";
    static final String MEMORY = "xen.guest.memory";
    /** The value of {@value #GUEST} that boots a kernel. */
    static final String KERNEL_GUEST = "kernel";

    static final int DEFAULT_VCPUS = 1;
    static final int DEFAULT_MEMORY_MIB = 64;
    static final int MAX_MEMORY_MIB = (int) (KvmConfig.MAX_RAM >> 20);
    /** The largest image file read (a vmlinux with its debug sections is some hundred MiB). */
    static final long MAX_IMAGE_BYTES = 1L << 30;

    private static final PvhGuestSettings NONE = new PvhGuestSettings(false, null, null, 0, 0);

    /**
     * Reads the settings through {@code property} (null for an absent property).
     *
     * @throws IllegalArgumentException naming the property, for a missing kernel path, a command
     *                                  line the guest cannot get, a value that is not a number or
     *                                  out of range (read only if a kernel is to be booted)
     */
    static PvhGuestSettings from(Function<String, String> property) {
        if (!KERNEL_GUEST.equals(trimmed(property.apply(GUEST)))) {
            return NONE;
        }
        String file = trimmed(property.apply(KERNEL));
        if (file == null) {
            throw new IllegalArgumentException(GUEST + "=" + KERNEL_GUEST + " needs " + KERNEL
                    + ", the path of a PVH kernel image");
        }
        Path kernel;
        try {
            kernel = Path.of(file).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(KERNEL + " is not a path: \"" + file + "\" (" + e.getReason() + ")");
        }
        String cmdline = property.apply(CMDLINE);
        cmdline = cmdline == null ? "" : cmdline;
        if (cmdline.length() > HvmStartInfo.MAX_CMDLINE) {
            throw new IllegalArgumentException(CMDLINE + " is " + cmdline.length() + " characters long, at most "
                    + HvmStartInfo.MAX_CMDLINE);
        }
        for (int i = 0; i < cmdline.length(); i++) {
            char c = cmdline.charAt(i);
            if (c == 0 || c > 0x7f) {
                throw new IllegalArgumentException(CMDLINE + " must be ASCII without NUL: character "
                        + String.format("U+%04X", (int) c) + " at index " + i);
            }
        }
        int vcpus = number(property, VCPUS, DEFAULT_VCPUS, 1, KvmConfig.MAX_VCPUS);
        int mib = number(property, MEMORY, DEFAULT_MEMORY_MIB, 1, MAX_MEMORY_MIB);
        long ramBytes = ((long) mib << 20) + KvmConfig.MIN_RAM - 1 & -KvmConfig.MIN_RAM;
        return new PvhGuestSettings(true, kernel, cmdline, vcpus, ramBytes);
    }

    /**
     * Reads and parses the image at {@link #kernel()}.
     *
     * @throws IllegalArgumentException naming {@value #KERNEL} and the file, if it cannot be read,
     *                                  is too large, or is not a PVH image (and saying why)
     */
    PvhImage image() {
        if (!boot) {
            throw new IllegalStateException("no kernel is to be booted");
        }
        byte[] bytes;
        try {
            if (!Files.isRegularFile(kernel)) {
                throw new IllegalArgumentException(KERNEL + ": " + kernel
                        + (Files.exists(kernel) ? " is not a regular file" : " does not exist"));
            }
            long size = Files.size(kernel);
            if (size > MAX_IMAGE_BYTES) {
                throw new IllegalArgumentException(KERNEL + ": " + kernel + " is " + size + " bytes, more than the "
                        + (MAX_IMAGE_BYTES >> 20) + " MiB an image may have");
            }
            bytes = Files.readAllBytes(kernel);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException(KERNEL + ": cannot read " + kernel + ": " + e, e);
        }
        try {
            return PvhImage.parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(KERNEL + ": " + kernel + " is not a PVH kernel image: " + e.getMessage(),
                    e);
        }
    }

    /** The KVM configuration: the in-kernel irqchip with more than one vCPU (the others start by INIT/SIPI). */
    KvmConfig config(Consumer<String> log) {
        return KvmConfig.of(vcpus, ramBytes, log).withIrqchip(vcpus > 1);
    }

    private static int number(Function<String, String> property, String name, int fallback, int min, int max) {
        String value = trimmed(property.apply(name));
        if (value == null) {
            return fallback;
        }
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number: got \"" + value + "\"");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(name + " must be " + min + ".." + max + ": got " + n);
        }
        return n;
    }

    private static String trimmed(String value) {
        return value == null || value.isBlank() ? null : value.strip();
    }
}
