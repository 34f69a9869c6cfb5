package xen.evtchn.api.bus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A domain's disk as an operator writes it, on the command line ({@code --disk FILE[,ro]}) or in
 * a domain's configuration ({@code disk = ["FILE", "FILE,ro,vdev=xvdb"]}): a raw image file, the
 * virtual device the guest sees it as, and whether the guest may write it. Options after the file,
 * comma-separated: {@code ro} or {@code rw} (the default), {@code vdev=xvdX} (the default is the
 * next free of xvda, xvdb, ...). A file name cannot contain a comma.
 * <p>
 * The vdev's number is the device id of its xen-bus nodes and what Linux's blkfront reads from
 * {@code virtual-device}: {@code 202 << 8 | disk << 4} for xvda..xvdp, the extended form
 * {@code 1 << 28 | disk << 8} beyond (Xen's docs/misc/vbd-interface.txt).
 */
public record DiskSpec(Path image, String vdev, boolean readOnly) {
    /** The vbd device type. */
    public static final String TYPE = "vbd";
    /** Linux's major number for xvd disks (XENVBD_MAJOR). */
    private static final int XVD_MAJOR = 202;
    private static final Pattern VDEV = Pattern.compile("xvd([a-z]{1,2})");
    /** xvda..xvdzz: the vdevs a disk can have. */
    public static final int MAX_DISKS = 26 + 26 * 26;
    /** Sector size every image is served with. */
    public static final int SECTOR_SIZE = 512;

    public DiskSpec {
        if (image == null) {
            throw new IllegalArgumentException("a disk needs an image file");
        }
        diskIndex(vdev);
    }

    /**
     * Parses a list of disk specifications; disks without a vdev get the first of xvda, xvdb, ...
     * not named by another.
     *
     * @throws IllegalArgumentException naming the specification that is malformed or whose vdev repeats
     */
    public static List<DiskSpec> parseAll(List<String> specs) {
        if (specs.size() > MAX_DISKS) {
            throw new IllegalArgumentException(specs.size() + " disks, more than the " + MAX_DISKS + " vdevs xvda..xvdzz");
        }
        Set<String> named = new HashSet<>();
        List<Map<String, String>> parsed = new ArrayList<>();
        for (String spec : specs) {
            Map<String, String> options = options(spec);
            parsed.add(options);
            String vdev = options.get("vdev");
            if (vdev != null && !named.add(vdev)) {
                throw new IllegalArgumentException("disk \"" + spec + "\": vdev " + vdev + " is named twice");
            }
        }
        List<DiskSpec> disks = new ArrayList<>();
        int next = 0;
        for (Map<String, String> options : parsed) {
            String vdev = options.get("vdev");
            if (vdev == null) {
                while (named.contains(vdevName(next))) {
                    next++;
                }
                vdev = vdevName(next++);
                named.add(vdev);
            }
            disks.add(new DiskSpec(Path.of(options.get("")), vdev, options.containsKey("ro")));
        }
        return disks;
    }

    /** One specification, {@code FILE[,ro|rw][,vdev=xvdX]}, with xvda if it names no vdev. */
    public static DiskSpec parse(String spec) {
        return parseAll(List.of(spec)).get(0);
    }

    private static Map<String, String> options(String spec) {
        if (spec == null) {
            throw new IllegalArgumentException("a disk is null, not FILE[,ro|rw][,vdev=xvdX]");
        }
        String[] parts = spec.split(",", -1);
        if (parts[0].isBlank()) {
            throw new IllegalArgumentException("disk \"" + spec + "\": no image file (FILE[,ro|rw][,vdev=xvdX])");
        }
        Map<String, String> options = new LinkedHashMap<>();
        try {
            options.put("", Path.of(parts[0].strip()).toString());
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("disk \"" + spec + "\": not a file name (" + e.getReason() + ")");
        }
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i].strip();
            if (part.equals("ro") || part.equals("rw")) {
                if (options.containsKey("ro") || options.containsKey("rw")) {
                    throw new IllegalArgumentException("disk \"" + spec + "\": give ro or rw once");
                }
                options.put(part, "");
            } else if (part.startsWith("vdev=")) {
                if (options.containsKey("vdev")) {
                    throw new IllegalArgumentException("disk \"" + spec + "\": give vdev once");
                }
                String vdev = part.substring(5);
                try {
                    diskIndex(vdev);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("disk \"" + spec + "\": " + e.getMessage());
                }
                options.put("vdev", vdev);
            } else {
                throw new IllegalArgumentException("disk \"" + spec + "\": unknown option \"" + part
                        + "\" (FILE[,ro|rw][,vdev=xvdX]; a file name cannot contain a comma)");
            }
        }
        return options;
    }

    /** xvda is 0, xvdz 25, xvdaa 26, ... */
    private static int diskIndex(String vdev) {
        Matcher m = vdev == null ? null : VDEV.matcher(vdev);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("vdev must be xvd followed by one or two letters (xvda, xvdb, ... xvdzz): got \"" + vdev + "\"");
        }
        String letters = m.group(1);
        return letters.length() == 1 ? letters.charAt(0) - 'a' : (letters.charAt(0) - 'a' + 1) * 26 + letters.charAt(1) - 'a';
    }

    private static String vdevName(int index) {
        return index < 26 ? "xvd" + (char) ('a' + index)
                : "xvd" + (char) ('a' + index / 26 - 1) + (char) ('a' + index % 26);
    }

    /** The device id: the vdev's virtual-device number. */
    public int devid() {
        int disk = diskIndex(vdev);
        return disk < 16 ? XVD_MAJOR << 8 | disk << 4 : 1 << 28 | disk << 8;
    }

    /**
     * Checks the image as the guest will use it, before its domain starts: it exists, is a regular
     * file, is readable (and writable unless read-only) and holds at least one sector.
     *
     * @return its size in sectors (a partial last sector is not served)
     * @throws IllegalArgumentException with a message naming the image and what is wrong
     */
    public long check() {
        String name = "disk " + vdev + " (" + image + ")";
        if (!Files.exists(image)) {
            throw new IllegalArgumentException(name + ": no such file");
        }
        if (!Files.isRegularFile(image)) { // a symbolic link to a file is that file
            throw new IllegalArgumentException(name + ": not a regular file");
        }
        if (!Files.isReadable(image)) {
            throw new IllegalArgumentException(name + ": not readable");
        }
        if (!readOnly && !Files.isWritable(image)) {
            throw new IllegalArgumentException(name + ": not writable (give ,ro for a read-only disk)");
        }
        long size;
        try {
            size = Files.size(image);
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": cannot read its size: " + e.getMessage());
        }
        if (size < SECTOR_SIZE) {
            throw new IllegalArgumentException(name + ": " + size + " bytes, less than one " + SECTOR_SIZE + "-byte sector");
        }
        return size / SECTOR_SIZE;
    }

    /**
     * The nodes the toolstack writes for this disk of domain {@code domid}, as libxl does for a
     * raw image: {@code params}, {@code mode} ("r" or "w"), {@code dev}, {@code device-type} in
     * the backend's directory; {@code virtual-device} and {@code device-type} in the frontend's.
     */
    public DeviceNodes nodes(int domid) {
        return new DeviceNodes(domid, TYPE, devid(),
                Map.of("params", image.toAbsolutePath().toString(),
                        "mode", readOnly ? "r" : "w",
                        "dev", vdev,
                        "type", "file",
                        "device-type", "disk",
                        "removable", "0",
                        "bootable", "1"),
                Map.of("virtual-device", Integer.toString(devid()),
                        "device-type", "disk"));
    }
}
